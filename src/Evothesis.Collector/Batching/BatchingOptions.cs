using System.ComponentModel.DataAnnotations;

namespace Evothesis.Collector.Batching;

/// <summary>How accepted events are queued, grouped into batches and acknowledged.</summary>
public sealed class BatchingOptions
{
    /// <summary>
    /// Gets or sets the number of events at which a batch is written without waiting for
    /// <see cref="FlushInterval"/>. The events of one request are never split, so a batch may exceed it by
    /// less than one request. The default is 500.
    /// </summary>
    [Range(1, 100_000)]
    public int BatchSize { get; set; } = 500;

    /// <summary>
    /// Gets or sets the longest time the first event of a batch waits for the batch to fill before it is
    /// written anyway. The default is 200 milliseconds.
    /// </summary>
    public TimeSpan FlushInterval { get; set; } = TimeSpan.FromMilliseconds(200);

    /// <summary>
    /// Gets or sets the most events waiting to be written. A request that does not fit is answered with 503
    /// and <c>Retry-After</c>; nothing is dropped silently. The default is 100 000.
    /// </summary>
    [Range(1, 10_000_000)]
    public int QueueCapacity { get; set; } = 100_000;

    /// <summary>
    /// Gets or sets the most memory, in bytes, the events waiting to be written may keep alive (their request
    /// bodies). A request that does not fit is answered with 503 and <c>Retry-After</c>, like a full queue: a
    /// gzip body of a few kilobytes can inflate to <see cref="Ingestion.RequestLimitsOptions.MaxBodyBytes"/> for a
    /// single event, so a bound on events alone does not bound memory. The default is 256 MiB.
    /// </summary>
    [Range(1024 * 1024, long.MaxValue)]
    public long QueueCapacityBytes { get; set; } = 256L * 1024 * 1024;

    /// <summary>Gets or sets when a request is acknowledged. The default is <see cref="AckMode.Durable"/>.</summary>
    public AckMode AckMode { get; set; } = AckMode.Durable;

    /// <summary>
    /// Gets or sets how long a request waits for its batch to be written in <see cref="AckMode.Durable"/>
    /// mode (and an audited request in either mode) before it is answered with 503 (the write may still complete; retried events carry their
    /// <c>eventId</c>). The default is 30 seconds.
    /// </summary>
    public TimeSpan AckTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Gets or sets how long one sink may take to write one batch before the write is cancelled. The default is 30 seconds.</summary>
    public TimeSpan SinkTimeout { get; set; } = TimeSpan.FromSeconds(30);
}

/// <summary>When the collector answers a request whose events it accepted.</summary>
public enum AckMode
{
    /// <summary>
    /// <c>202</c> is sent only after every sink has written the batch that carries the request's events.
    /// Concurrent requests share one batch and one write, so the batching gain stays.
    /// </summary>
    Durable,

    /// <summary>
    /// <c>202</c> is sent as soon as the events are queued: lower latency, but events still in the queue
    /// are lost if the process crashes, and a failed write can no longer be reported to the sender
    /// (it is counted and logged as a drop). Requests of audited (<c>hipaa</c>) clients are still acknowledged
    /// only once their audit record and events are written.
    /// </summary>
    Enqueued,
}
