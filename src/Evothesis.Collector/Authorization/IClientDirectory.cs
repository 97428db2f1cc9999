namespace Evothesis.Collector.Authorization;

/// <summary>
/// Looks a client up by its identifier, for the services around the collector that start from a client
/// rather than a domain (serving a client's tracking script, showing its settings).
/// </summary>
/// <remarks>
/// The default directory follows the authorization source: the clients file, or, when pixel-management is
/// configured, <c>GET {PixelManagementUrl}/api/v1/config/client/{client_id}</c> behind the same cache as domain
/// authorization (only ids of 1 to 128 letters, digits, <c>_</c>, <c>.</c> and <c>-</c>, starting with a letter or
/// a digit, are looked up; others are unknown). A host registers its own with <c>UseClientDirectory&lt;T&gt;()</c>,
/// which wins. The returned configuration carries the client's IP salt: callers copy the fields they publish and
/// never the configuration as a whole.
/// </remarks>
public interface IClientDirectory
{
    /// <summary>Finds a client.</summary>
    /// <param name="clientId">The client identifier, as in <see cref="ClientConfig.ClientId"/>.</param>
    /// <param name="cancellationToken">Cancels the lookup.</param>
    /// <returns>The client's configuration, or <see langword="null"/> when no such client exists.</returns>
    /// <exception cref="ClientDirectoryUnavailableException">The directory cannot answer now (its source is unreachable).</exception>
    ValueTask<ClientConfig?> FindClientAsync(string clientId, CancellationToken cancellationToken);
}

/// <summary>Thrown by an <see cref="IClientDirectory"/> that cannot answer now; the caller should try again later.</summary>
public sealed class ClientDirectoryUnavailableException : Exception
{
    /// <summary>Initializes a new instance of the <see cref="ClientDirectoryUnavailableException"/> class.</summary>
    public ClientDirectoryUnavailableException()
        : this("The client directory is unavailable.")
    {
    }

    /// <summary>Initializes a new instance of the <see cref="ClientDirectoryUnavailableException"/> class.</summary>
    /// <param name="message">Why the directory cannot answer; never a secret.</param>
    public ClientDirectoryUnavailableException(string message)
        : base(message)
    {
    }

    /// <summary>Initializes a new instance of the <see cref="ClientDirectoryUnavailableException"/> class.</summary>
    /// <param name="message">Why the directory cannot answer; never a secret.</param>
    /// <param name="innerException">The failure of the directory's source.</param>
    public ClientDirectoryUnavailableException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Gets how long the caller should wait before asking again, when the directory knows.</summary>
    public TimeSpan? RetryAfter { get; init; }
}
