using System.Diagnostics.CodeAnalysis;

namespace Evothesis.Collector.Authorization.Internal;

/// <summary>Checks the configured pixel-management URL and builds the lookup URLs of a domain and of a client.</summary>
internal static class PixelManagementUri
{
    public const string LookupPath = "api/v1/config/domain/";
    public const string ClientLookupPath = "api/v1/config/client/";

    /// <summary>Parses the base URL: absolute http(s), no user information, query or fragment.</summary>
    /// <param name="value">The configured URL.</param>
    /// <param name="baseUri">The URL with a trailing slash, so lookup paths append to it.</param>
    /// <param name="error">Why the URL was refused.</param>
    public static bool TryCreate(string? value, [NotNullWhen(true)] out Uri? baseUri, [NotNullWhen(false)] out string? error)
    {
        baseUri = null;
        if (string.IsNullOrWhiteSpace(value))
        {
            error = "must not be empty.";
            return false;
        }

        if (!Uri.TryCreate(value.Trim(), UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
        {
            error = "must be an absolute http or https URL, such as http://pixel-management:8001.";
            return false;
        }

        // Credentials in a URL end up in logs and are not sent by HttpClient anyway: use a handler instead.
        if (uri.UserInfo.Length > 0)
        {
            error = "must not contain user information; add credentials with a handler on the pixel-management HttpClient.";
            return false;
        }

        if (uri.Query.Length > 0 || uri.Fragment.Length > 0)
        {
            error = "must not contain a query or fragment.";
            return false;
        }

        var text = uri.GetLeftPart(UriPartial.Path);
        baseUri = new Uri(text.EndsWith('/') ? text : text + "/", UriKind.Absolute);
        error = null;
        return true;
    }

    /// <summary>The lookup URL of a domain; the domain must be normalised, so it is one plain path segment.</summary>
    public static Uri ForDomain(Uri baseUri, string domain)
    {
        if (!DomainName.IsNormalized(domain))
        {
            throw new ArgumentException("The domain is not a normalised domain name.", nameof(domain));
        }

        return new Uri(baseUri, LookupPath + domain);
    }

    /// <summary>The lookup URL of a client; the id must pass <see cref="ClientIds.IsValid"/>, so it is one plain path segment.</summary>
    public static Uri ForClient(Uri baseUri, string clientId)
    {
        if (!ClientIds.IsValid(clientId))
        {
            throw new ArgumentException("The client id is not a plain identifier.", nameof(clientId));
        }

        var uri = new Uri(baseUri, ClientLookupPath + clientId);

        // Valid ids need no escaping and are no dot segments; should Uri ever rewrite one, refuse rather than ask
        // pixel-management about another path.
        if (!uri.AbsolutePath.EndsWith("/" + ClientLookupPath + clientId, StringComparison.Ordinal))
        {
            throw new ArgumentException("The client id does not survive as one path segment.", nameof(clientId));
        }

        return uri;
    }

    /// <summary>The URL without user information, for logs and error messages.</summary>
    public static string Redact(string value) =>
        Uri.TryCreate(value, UriKind.Absolute, out var uri) && uri.UserInfo.Length > 0
            ? uri.GetComponents(UriComponents.AbsoluteUri & ~UriComponents.UserInfo, UriFormat.UriEscaped)
            : value;
}
