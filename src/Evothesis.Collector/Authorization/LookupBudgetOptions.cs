namespace Evothesis.Collector.Authorization;

/// <summary>
/// Bounds the pixel-management lookups that requests cause for domains (and client ids) the cache does not hold, so
/// that a flood of made-up <c>siteId</c>s or origins can neither overload pixel-management nor fill the lookup client's
/// resilience pipeline, whose concurrency limiter admits 1000 calls at a time.
/// </summary>
/// <remarks>
/// <para>
/// Two token buckets: one for the whole collector and one per client address (an IPv4 address, or the /64 network of
/// an IPv6 address, the share one subscriber usually gets). A lookup takes a token from both; beyond the address's
/// budget the request is answered 429, beyond the global one 503, both with <c>Retry-After</c> and nothing stored.
/// Requests without a known address (a host that sets none) count against the global budget only.
/// </para>
/// <para>
/// Only lookups that would call pixel-management count: cache hits, configurations served stale, requests that join a
/// lookup of the same domain already in flight, and refreshes of a configuration pixel-management gave (their number is
/// bounded by the clients' domains) take no token, so known sites keep flowing while a flood is refused. The clients
/// file has no upstream and no budget.
/// </para>
/// <para>
/// With the defaults, at most <see cref="Burst"/> + <see cref="PermitsPerSecond"/> × the 3-second
/// <see cref="AuthorizationOptions.PixelManagementTimeout"/> = 800 lookups can be in flight, below the resilience
/// pipeline's 1000. Keep that sum below 1000 when changing either.
/// </para>
/// </remarks>
public sealed class LookupBudgetOptions
{
    /// <summary>
    /// Gets or sets a value indicating whether uncached lookups are budgeted. The default is <see langword="true"/>.
    /// </summary>
    public bool Enabled { get; set; } = true;

    /// <summary>
    /// Gets or sets how many uncached lookups per second the collector makes in all, sustained. The default is 100:
    /// a collector sees a new domain when a client's site sends its first event after a start (or 1 minute after
    /// pixel-management said it knows no such domain); 6000 new domains a minute warms the cache of an instance serving
    /// thousands of sites within a minute or two, and pixel-management answers a lookup with one indexed read.
    /// </summary>
    public double PermitsPerSecond { get; set; } = 100;

    /// <summary>
    /// Gets or sets how many uncached lookups the collector may make at once above the sustained rate (the global
    /// bucket's size). The default is 500, so that the burst of distinct domains right after a start is looked up
    /// without delay.
    /// </summary>
    public int Burst { get; set; } = 500;

    /// <summary>
    /// Gets or sets how many uncached lookups per second one client address may cause, sustained. The default is 5:
    /// a browser causes one when it is the first to send from a site (its next requests are cache hits), and even a
    /// carrier-grade NAT or a server-to-server relay for many sites only causes lookups until their domains are cached.
    /// </summary>
    public double PermitsPerSecondPerClient { get; set; } = 5;

    /// <summary>
    /// Gets or sets how many uncached lookups one client address may cause at once above its sustained rate. The
    /// default is 50 (a relay starting up with the events of 50 sites).
    /// </summary>
    public int BurstPerClient { get; set; } = 50;
}
