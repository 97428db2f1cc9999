using System.ComponentModel.DataAnnotations;

namespace Evothesis.Collector.Nats;

/// <summary>
/// How the loader reads the stream: one durable pull consumer per sink, shared by every loader instance. Bound from
/// <c>Evothesis:Nats:Loader</c>.
/// </summary>
public sealed class NatsLoaderOptions
{
    /// <summary>The configuration section the options are bound from.</summary>
    public const string SectionName = "Evothesis:Nats:Loader";

    /// <summary>
    /// Gets or sets the start of each durable consumer's name; the rest is the sink's spool consumer name with dots
    /// replaced (<c>loader-sink-postgresql-events</c>). Loaders with the same prefix share the work. The default is
    /// <c>loader-</c>.
    /// </summary>
    [Required]
    [RegularExpression("^[A-Za-z0-9_-]{1,32}$")]
    public string ConsumerPrefix { get; set; } = "loader-";

    /// <summary>Gets or sets the most messages (events) one sink write takes. The default is 1000.</summary>
    [Range(1, 100_000)]
    public int BatchSize { get; set; } = 1000;

    /// <summary>
    /// Gets or sets how long one pull request waits for a message when none is waiting (the loader takes what is waiting,
    /// up to <see cref="BatchSize"/>, without delay; this only bounds how long an idle loader's request stays open). More
    /// than 1 second. The default is 5 seconds.
    /// </summary>
    public TimeSpan FetchWait { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Gets or sets how long the server waits for a message's acknowledgement before it delivers the message again (to
    /// this loader or another one): after a loader crashed, its unacknowledged messages are loaded again this much later.
    /// While a write is being retried the loader tells the server it is still working on its messages. The default is
    /// 60 seconds.
    /// </summary>
    public TimeSpan AckWait { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>
    /// Gets or sets how many messages may be delivered and not yet acknowledged, over every loader of one consumer. The
    /// default is 20000.
    /// </summary>
    [Range(1, 1_000_000)]
    public int MaxAckPending { get; set; } = 20_000;

    /// <summary>
    /// Gets or sets the subject prefix refused messages are parked under (<c>{ParkedSubjectPrefix}.{consumer}</c>),
    /// and the stream <see cref="ParkedStreamName"/> takes. The default is <c>evothesis.parked</c>.
    /// </summary>
    [Required]
    [RegularExpression(@"^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$")]
    public string ParkedSubjectPrefix { get; set; } = "evothesis.parked";

    /// <summary>Gets or sets the stream refused messages are parked in; created with the events stream's replicas. The default is <c>EVOTHESIS_PARKED</c>.</summary>
    [Required]
    [RegularExpression("^[A-Za-z0-9_-]{1,64}$")]
    public string ParkedStreamName { get; set; } = "EVOTHESIS_PARKED";
}
