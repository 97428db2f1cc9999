using System.ComponentModel.DataAnnotations;

namespace Evothesis.Collector.Ingestion;

/// <summary>
/// Limits every <c>/collect</c> request is checked against. A request over a limit is refused as a whole
/// with an RFC 7807 problem, and nothing of it is stored.
/// </summary>
public sealed class RequestLimitsOptions
{
    /// <summary>
    /// The bytes every request may carry beyond <see cref="MaxPayloadExpansion"/> times its body, so small batches
    /// that share an envelope <c>page_data</c> among their members are never refused: 64 KiB.
    /// </summary>
    public const int PayloadExpansionAllowance = 64 * 1024;

    /// <summary>
    /// Gets or sets the largest accepted body, in bytes, counted after gzip decompression as well as before
    /// it. Larger bodies are answered with 413. The default is 1 MiB.
    /// </summary>
    [Range(1024, 256 * 1024 * 1024)]
    public int MaxBodyBytes { get; set; } = 1024 * 1024;

    /// <summary>Gets or sets the most events one batch may carry; more are answered with 413. The default is 500.</summary>
    [Range(1, 100_000)]
    public int MaxEventsPerBatch { get; set; } = 500;

    /// <summary>Gets or sets the deepest JSON nesting accepted; deeper bodies are answered with 400. The default is 32.</summary>
    [Range(4, 256)]
    public int MaxJsonDepth { get; set; } = 32;

    /// <summary>
    /// Gets or sets the longest string (value or property name) accepted, in UTF-8 bytes; longer strings are
    /// answered with 400. The default is 8 KiB.
    /// </summary>
    [Range(64, 1024 * 1024)]
    public int MaxStringLength { get; set; } = 8 * 1024;

    /// <summary>
    /// Gets or sets the longest <c>eventId</c> or <c>sessionId</c> accepted, in characters; an event with a longer
    /// one is rejected (<c>invalid_event_id</c>, <c>invalid_session_id</c>). Identifiers are indexed: PostgreSQL's
    /// B-tree refuses keys over about 2.7 KB. The default is 256.
    /// </summary>
    [Range(16, 2048)]
    public int MaxIdentifierLength { get; set; } = 256;

    /// <summary>
    /// Gets or sets how many times its (decompressed) body the JSON payloads of a batch's events may add up to once
    /// the envelope's <c>page_data</c>, <c>consent</c>, <c>sessionId</c> and custom fields are copied into every member
    /// that inherits them, plus <see cref="PayloadExpansionAllowance"/>. A batch over it is answered with 413
    /// (<see cref="ProblemTypes.PayloadExpansionTooLarge"/>) and nothing of it is stored. It keeps what a request
    /// costs to build, redact and store proportional to its size. The default is 8.
    /// </summary>
    [Range(1, 1000)]
    public int MaxPayloadExpansion { get; set; } = 8;

    /// <summary>
    /// Gets or sets the longest <c>User-Agent</c> stored with each event, in characters; a longer one is cut there.
    /// Every event of a request stores it, so it is bounded like any repeated value. The default is 512.
    /// </summary>
    [Range(64, 8192)]
    public int MaxUserAgentLength { get; set; } = 512;
}
