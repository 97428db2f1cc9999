using System.ComponentModel.DataAnnotations;

namespace Evothesis.Collector.Sample.Pixel;

/// <summary>
/// The development pixel (<c>GET /pixel/{client_id}/tracking.js</c>), bound from <c>Sample:Pixel</c>. In
/// production pixel-management serves the tracking script; this stand-in lets one machine run the whole loop.
/// </summary>
public sealed class PixelOptions
{
    /// <summary>The configuration section the options are bound from.</summary>
    public const string SectionName = "Sample:Pixel";

    /// <summary>
    /// Gets or sets a value indicating whether the pixel is served. The default (<see langword="null"/>) serves
    /// it in the Development environment only.
    /// </summary>
    public bool? Enabled { get; set; }

    /// <summary>
    /// Gets or sets the absolute URL the pixel sends events to. The default (<see langword="null"/>) is this
    /// host's collect endpoint, at the scheme and host the script was requested with.
    /// </summary>
    [Url]
    public string? CollectorEndpoint { get; set; }

    /// <summary>Gets or sets how many events the pixel sends in one request at most. The default is 20.</summary>
    [Range(1, 500)]
    public int BatchSize { get; set; } = 20;

    /// <summary>
    /// Gets or sets how long the pixel waits for a batch to fill before sending it anyway. The default is 5 seconds.
    /// </summary>
    public TimeSpan FlushInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Gets or sets how many times the pixel resends a batch the collector could not take (503, network
    /// errors) before it gives up. The default is 5.
    /// </summary>
    [Range(0, 20)]
    public int MaxRetries { get; set; } = 5;
}
