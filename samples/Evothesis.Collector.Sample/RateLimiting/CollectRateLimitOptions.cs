using System.ComponentModel.DataAnnotations;

namespace Evothesis.Collector.Sample.RateLimiting;

/// <summary>
/// The rate limit of <c>/collect</c> per client address, bound from <c>Sample:RateLimit</c>: ASP.NET Core's rate
/// limiter with a token bucket per address (an IPv4 address, or the /64 network of an IPv6 one), after the trusted
/// forwarded headers. Off by default: the collector's own limits bound what each request costs, and a page's pixel
/// sends a batch every few seconds, so a limit is something to size for the traffic a deployment sees.
/// </summary>
public sealed class CollectRateLimitOptions
{
    /// <summary>The configuration section the options are bound from.</summary>
    public const string SectionName = "Sample:RateLimit";

    /// <summary>
    /// Gets or sets how many requests per second one client address may send, sustained. The default, 0, turns the
    /// limit off.
    /// </summary>
    [Range(0, 1_000_000)]
    public int PermitsPerSecond { get; set; }

    /// <summary>
    /// Gets or sets how many requests one client address may send at once above its sustained rate. The default, 0,
    /// is <see cref="PermitsPerSecond"/>.
    /// </summary>
    [Range(0, 1_000_000)]
    public int Burst { get; set; }

    /// <summary>Gets a value indicating whether the limit is on.</summary>
    public bool Enabled => PermitsPerSecond > 0;
}
