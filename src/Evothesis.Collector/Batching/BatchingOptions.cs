using System.ComponentModel.DataAnnotations;

namespace Evothesis.Collector.Batching;

/// <summary>How accepted events are queued, grouped into batches and acknowledged.</summary>
public sealed class BatchingOptions
{
    /// <summary>
    /// Gets or sets the most events a sink is given at once. Each sink reads what is waiting in the spool, up to this
    /// many events (a request's events are never split, so a single larger request is delivered alone). The default is 500.
    /// </summary>
    [Range(1, 100_000)]
    public int BatchSize { get; set; } = 500;

    /// <summary>Gets or sets when a request is acknowledged. The default is <see cref="AckMode.Durable"/>.</summary>
    public AckMode AckMode { get; set; } = AckMode.Durable;

    /// <summary>
    /// Gets or sets how long a request waits for its acknowledgement (the spool's fsync in <see cref="AckMode.Durable"/>
    /// mode, the first sink and the audit trail in <see cref="AckMode.Committed"/> mode) before it is answered with 503; the events may still be
    /// stored, and a retry with the same <c>eventId</c>s is stored once. The default is 30 seconds.
    /// </summary>
    public TimeSpan AckTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Gets or sets how long one sink may take to write one batch before the write is cancelled and retried. The default is 30 seconds.</summary>
    public TimeSpan SinkTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Gets or sets the delay before a sink retries a failed batch for the first time; it doubles with every failure
    /// up to <see cref="RetryMaxDelay"/>, with jitter. A transient failure is retried for as long as the spool has
    /// room. The default is 100 milliseconds.
    /// </summary>
    public TimeSpan RetryBaseDelay { get; set; } = TimeSpan.FromMilliseconds(100);

    /// <summary>
    /// Gets or sets how long the oldest record waiting for a sink may wait for more to join its batch, for sinks that
    /// name no batch policy of their own (the object stores name theirs): a batch is delivered once
    /// <see cref="BatchSize"/> events are waiting or its oldest record is this old, so that under steady traffic a sink
    /// writes fewer, larger batches (fewer objects, files and fsyncs) instead of one per spool fsync. It delays
    /// delivery, never the <see cref="AckMode.Durable"/> acknowledgement; in <see cref="AckMode.Committed"/> mode the
    /// first sink (whose commit the acknowledgement waits for) delivers at once. Zero delivers at once. The default is
    /// 50 milliseconds.
    /// </summary>
    public TimeSpan DeliveryDelay { get; set; } = TimeSpan.FromMilliseconds(50);

    /// <summary>Gets or sets the longest delay between two attempts of a failing sink. The default is 30 seconds.</summary>
    public TimeSpan RetryMaxDelay { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Gets or sets how many times a sink may refuse a batch for good (<see cref="Sinks.EventsRejectedException"/>)
    /// before its requests are delivered one by one and those still refused are parked beside the spool. Transient
    /// failures are retried for as long as the spool has room. The default is 5.
    /// </summary>
    [Range(1, 1000)]
    public int ParkAfterAttempts { get; set; } = 5;
}

/// <summary>When the collector answers a request whose events it accepted.</summary>
public enum AckMode
{
    /// <summary>
    /// <c>202</c> once the request's events are fsynced in the local write-ahead spool: they survive a crash of the
    /// process and of the machine, as long as the disk survives. Requests that arrive during one fsync share the next.
    /// The sinks are fed from the spool afterwards, each at its own pace.
    /// </summary>
    Durable,

    /// <summary>
    /// <c>202</c> as soon as the events are in the spool's memory: fastest, but a crash loses what is not yet written
    /// to the spool, and a failed spool write can no longer be reported to the sender (it is counted and logged as a
    /// drop). Requests of audited (<c>hipaa</c>) clients are still acknowledged only once durable.
    /// </summary>
    Enqueued,

    /// <summary>
    /// <c>202</c> once the first sink (PostgreSQL when it is registered, as host sinks come first; otherwise the client
    /// bucket or the local folder) and the audit trail have committed the request's events: for hosts without a
    /// persistent disk. That sink delivers without waiting for a batch to fill (many requests still share one
    /// transaction), and while it is down acknowledgements are held back until <see cref="BatchingOptions.AckTimeout"/>
    /// (then 503). The other sinks (the buckets) keep their own batch policy and are fed from the spool afterwards.
    /// </summary>
    Committed,
}
