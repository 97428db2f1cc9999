using System.ComponentModel.DataAnnotations;

namespace Evothesis.Collector.Nats;

/// <summary>
/// The NATS servers and the JetStream stream that carry accepted events from the collectors to the loaders. Bound from
/// <c>Evothesis:Nats</c>; the collector's sink and the loader read the same section, so both name the same stream.
/// </summary>
/// <remarks>
/// The stream settings are applied when <see cref="CreateStream"/> is set (the default): the stream is created, or its
/// configuration updated, when the sink or the loader starts. What each setting costs is described in
/// <c>docs/scaling-out.md</c>.
/// </remarks>
public sealed class NatsJetStreamOptions
{
    /// <summary>The configuration section the options are bound from.</summary>
    public const string SectionName = "Evothesis:Nats";

    /// <summary>
    /// Gets or sets the NATS servers, comma-separated (<c>nats://10.0.0.1:4222,nats://10.0.0.2:4222</c>). Name every node
    /// of a cluster: the client connects to one and moves to another when it goes away. The default is
    /// <c>nats://127.0.0.1:4222</c>.
    /// </summary>
    [Required]
    public string Url { get; set; } = "nats://127.0.0.1:4222";

    /// <summary>Gets or sets the name of the stream. The default is <c>EVOTHESIS_EVENTS</c>.</summary>
    [Required]
    [RegularExpression("^[A-Za-z0-9_-]{1,64}$")]
    public string StreamName { get; set; } = "EVOTHESIS_EVENTS";

    /// <summary>
    /// Gets or sets the first tokens of every event's subject: an event of client <c>acme</c> is published to
    /// <c>{SubjectPrefix}.acme</c>, and the stream takes <c>{SubjectPrefix}.&gt;</c>. The default is <c>evothesis.events</c>.
    /// </summary>
    [Required]
    [RegularExpression(@"^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$")]
    public string SubjectPrefix { get; set; } = "evothesis.events";

    /// <summary>
    /// Gets or sets whether the sink and the loader create the stream, or update its configuration to these options,
    /// when they start. Turn it off when the stream is managed elsewhere (the <c>nats</c> tool, an operator). The default
    /// is <see langword="true"/>.
    /// </summary>
    public bool CreateStream { get; set; } = true;

    /// <summary>
    /// Gets or sets how many servers hold each message (1, 3 or 5 in practice). A publish is acknowledged once a majority
    /// of them stored it; with 3, one server may be lost without losing or refusing anything. The default is 1.
    /// </summary>
    [Range(1, 5)]
    public int Replicas { get; set; } = 1;

    /// <summary>
    /// Gets or sets how long a message is kept in the stream, loaded or not: a loader stopped longer than this loses
    /// events. The default is 7 days.
    /// </summary>
    public TimeSpan MaxAge { get; set; } = TimeSpan.FromDays(7);

    /// <summary>
    /// Gets or sets the most bytes the stream holds on each server; -1 for no limit. When it is full, publishes are
    /// refused (the collector retries and, in <c>Committed</c> mode, answers 503 after its acknowledgement timeout) rather
    /// than old events being dropped. The default is -1.
    /// </summary>
    [Range(-1, long.MaxValue)]
    public long MaxBytes { get; set; } = -1;

    /// <summary>
    /// Gets or sets how long the stream remembers a message id: a message published again within this window (a
    /// collector retrying after a lost acknowledgement or a restart) is dropped. The loader's sinks deduplicate too, so
    /// a redelivery after the window is still stored once in PostgreSQL. The default is 2 minutes.
    /// </summary>
    public TimeSpan DuplicateWindow { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>
    /// Gets or sets the largest message the stream accepts, in bytes; an event larger than this is refused for good and
    /// parked by the collector. -1 leaves the server's limit (<c>max_payload</c>, 1 MiB by default). The default is -1.
    /// </summary>
    [Range(-1, int.MaxValue)]
    public int MaxMessageBytes { get; set; } = -1;

    /// <summary>
    /// Gets or sets how many batches the collector's sink publishes at once (each event is its own message, published
    /// without waiting for the previous acknowledgement). The default is 4.
    /// </summary>
    [Range(1, 64)]
    public int MaxInFlight { get; set; } = 4;

    /// <summary>Gets or sets how long the client waits for the stream to acknowledge a publish or answer a request. The default is 5 seconds.</summary>
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(5);
}
