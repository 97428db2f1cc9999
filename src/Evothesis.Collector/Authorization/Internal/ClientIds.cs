namespace Evothesis.Collector.Authorization.Internal;

/// <summary>
/// Which client identifiers are worth asking pixel-management about. An id is placed in the path of
/// <c>GET {base}/api/v1/config/client/{client_id}</c> and used as a cache key, and it comes from the outside
/// (a tracking script's URL): only plain identifiers pass, so none can name another path (<c>..</c>, <c>/</c>,
/// percent-encoding), a query or a fragment, or grow the cache key space with long values.
/// </summary>
internal static class ClientIds
{
    /// <summary>The longest identifier looked up.</summary>
    public const int MaxLength = 128;

    /// <summary>
    /// Tells whether <paramref name="clientId"/> is 1 to 128 ASCII letters, digits, <c>_</c>, <c>.</c> and <c>-</c>,
    /// starting with a letter or a digit (so no id is a dot segment such as <c>.</c> or <c>..</c>).
    /// </summary>
    public static bool IsValid(string? clientId)
    {
        if (string.IsNullOrEmpty(clientId) || clientId.Length > MaxLength || !char.IsAsciiLetterOrDigit(clientId[0]))
        {
            return false;
        }

        foreach (var c in clientId)
        {
            if (!char.IsAsciiLetterOrDigit(c) && c is not ('_' or '.' or '-'))
            {
                return false;
            }
        }

        return true;
    }
}
