namespace Evothesis.Collector.Authorization;

/// <summary>How the collector decides which client owns the domain a request comes from.</summary>
public sealed class AuthorizationOptions
{
    /// <summary>
    /// Gets or sets the clients file used when pixel-management is not configured: a JSON object mapping
    /// domains to client configurations. Relative paths are resolved against the content root. The default
    /// is <c>clients.json</c>.
    /// </summary>
    public string ClientsFile { get; set; } = "clients.json";

    /// <summary>
    /// Gets or sets a value indicating whether requests must name their site with an <c>Origin</c> or
    /// <c>Referer</c> header. Off by default so server-to-server senders and curl can name it in the body
    /// (<c>siteId</c>); turn it on for browser-only deployments.
    /// </summary>
    public bool RequireOrigin { get; set; }
}
