namespace Evothesis.Collector.Authorization;

/// <summary>How the collector decides which client owns the domain a request comes from.</summary>
/// <remarks>
/// With <see cref="PixelManagementUrl"/> set (or the <c>PIXEL_MANAGEMENT_URL</c> environment variable), domains
/// are authorized, and clients looked up by id (<see cref="IClientDirectory"/>), by pixel-management over HTTP,
/// cached in memory; otherwise by <see cref="ClientsFile"/>. A domain authorizer or client directory registered by
/// the host wins over both.
/// </remarks>
public sealed class AuthorizationOptions
{
    /// <summary>
    /// The name of the <see cref="System.Net.Http.HttpClient"/> the collector calls pixel-management with. Hosts can
    /// add handlers (authentication headers, for example) with <c>services.AddHttpClient(name)</c>; its standard
    /// resilience options are named <c>name + "-standard"</c>.
    /// </summary>
    public const string PixelManagementHttpClientName = "Evothesis.Collector.PixelManagement";

    /// <summary>
    /// Gets or sets the clients file used when pixel-management is not configured: a JSON object mapping
    /// domains to client configurations. Relative paths are resolved against the content root. The default
    /// is <c>clients.json</c>.
    /// </summary>
    public string ClientsFile { get; set; } = "clients.json";

    /// <summary>
    /// Gets or sets a value indicating whether the clients file is read again when it changes, so domains can be
    /// added or a client's rules changed without a restart. A changed file that is not valid, or a file that was
    /// removed, is refused (logged as an error) and the last valid one stays in force. The default is
    /// <see langword="true"/>.
    /// </summary>
    public bool ReloadClientsFileOnChange { get; set; } = true;

    /// <summary>
    /// Gets or sets how often the clients file is checked for a change (its size and last write time). Checking
    /// works on every file system, including mounted volumes whose files are replaced by a symbolic link swap, and
    /// holds no inotify instance. The default is 2 seconds.
    /// </summary>
    public TimeSpan ClientsFileCheckInterval { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// Gets or sets a value indicating whether requests must name their site with an <c>Origin</c> or
    /// <c>Referer</c> header. Off by default so server-to-server senders and curl can name it in the body
    /// (<c>siteId</c>); turn it on for browser-only deployments.
    /// </summary>
    public bool RequireOrigin { get; set; }

    /// <summary>
    /// Gets or sets the base URL of pixel-management, such as <c>http://pixel-management:8001</c>. Domains are
    /// looked up at <c>{PixelManagementUrl}/api/v1/config/domain/{domain}</c>, clients by id at
    /// <c>{PixelManagementUrl}/api/v1/config/client/{client_id}</c>. When unset, the
    /// <c>PIXEL_MANAGEMENT_URL</c> configuration value (usually an environment variable) is used; when that is
    /// unset too, domains are authorized by <see cref="ClientsFile"/>. The default is <see langword="null"/>.
    /// </summary>
    public string? PixelManagementUrl { get; set; }

    /// <summary>
    /// Gets or sets the longest a request waits for one pixel-management lookup, retries included. A lookup
    /// still unanswered by then counts as failed: known domains are served from the cache, unknown ones are
    /// answered with 503 and <c>Retry-After</c>. The default is 3 seconds.
    /// </summary>
    public TimeSpan PixelManagementTimeout { get; set; } = TimeSpan.FromSeconds(3);

    /// <summary>
    /// Gets or sets the longest one attempt of a lookup may take before it is abandoned (and retried while
    /// <see cref="PixelManagementTimeout"/> allows). The default is 1 second.
    /// </summary>
    public TimeSpan PixelManagementAttemptTimeout { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Gets or sets how many times a lookup that failed transiently (5xx, 408, 429, a network error or an attempt
    /// timeout) is retried within <see cref="PixelManagementTimeout"/>. The default is 2.
    /// </summary>
    public int PixelManagementMaxRetries { get; set; } = 2;

    /// <summary>
    /// Gets or sets how long a domain's (or a client's) configuration is used before pixel-management is asked
    /// again. The default is 5 minutes.
    /// </summary>
    public TimeSpan PositiveCacheDuration { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>
    /// Gets or sets how long pixel-management's answer that it knows no client for a domain (or no client with an
    /// id) is remembered. The default is 1 minute.
    /// </summary>
    public TimeSpan NegativeCacheDuration { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>
    /// Gets or sets how long after pixel-management last confirmed a domain's (or a client's) configuration it is
    /// still used while pixel-management fails. Past it the domain's requests are answered with 503 (and the client's
    /// lookups fail) until pixel-management answers again. The default is 24 hours.
    /// </summary>
    public TimeSpan StaleCacheLimit { get; set; } = TimeSpan.FromHours(24);

    /// <summary>
    /// Gets or sets the most entries (domains and client ids) the authorization cache holds. When it is full,
    /// domains no client owns and unknown client ids are evicted first, so a flood of made-up origins or ids cannot
    /// grow memory or push out the clients' configurations. The default is 100 000.
    /// </summary>
    public int CacheSizeLimit { get; set; } = 100_000;

    /// <summary>
    /// Gets or sets the budget of lookups of domains and client ids the cache does not hold, which bounds what a flood
    /// of made-up sites can ask of pixel-management. See <see cref="LookupBudgetOptions"/> for the defaults.
    /// </summary>
    public LookupBudgetOptions LookupBudget { get; set; } = new();

    /// <summary>
    /// Gets or sets how long the pixel-management health check reuses its last probe, so that frequent health probes
    /// (an orchestrator's liveness and readiness checks of every instance) do not each call pixel-management. Concurrent
    /// checks share one probe. <see cref="TimeSpan.Zero"/> probes on every check. The default is 5 seconds.
    /// </summary>
    public TimeSpan HealthCheckCacheDuration { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Gets or sets how long browsers may cache a granted CORS preflight (<c>Access-Control-Max-Age</c>).
    /// Every request is still authorized when it arrives. The default is 1 hour.
    /// </summary>
    public TimeSpan CorsMaxAge { get; set; } = TimeSpan.FromHours(1);
}
