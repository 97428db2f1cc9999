using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Evothesis.Collector.Spool.Internal;

/// <summary>What became of an append.</summary>
internal enum SpoolAppendStatus
{
    /// <summary>The records are queued; <see cref="SpoolAppendResult.Durable"/> completes once they are on disk.</summary>
    Accepted,

    /// <summary>
    /// Refused: the spool holds <see cref="SpoolOptions.MaxBytes"/> (or its pending bound, or the disk's free-space
    /// floor) would be passed. Answer 503 with <c>Retry-After</c>.
    /// </summary>
    Full,

    /// <summary>Refused: the spool folder cannot be written (read-only, missing, disk error). Answer 503.</summary>
    Unavailable,

    /// <summary>Refused: the spool is stopping.</summary>
    Stopped,
}

/// <summary>The outcome of <see cref="WriteAheadSpool.Append(ReadOnlySpan{byte}, bool)"/>.</summary>
/// <param name="Status">Whether the records were accepted.</param>
/// <param name="Position">The first record's position; for a refused append, -1.</param>
/// <param name="EndPosition">The position just after the last record: what a consumer commits once it has them all.</param>
/// <param name="Durable">
/// Completes when the records are flushed to disk, or faults with an <see cref="IOException"/> when the write
/// failed; a refused append's task is already faulted.
/// </param>
internal readonly record struct SpoolAppendResult(SpoolAppendStatus Status, long Position, long EndPosition, Task Durable)
{
    public bool IsAccepted => Status == SpoolAppendStatus.Accepted;
}

/// <summary>One record read from the spool.</summary>
/// <param name="Position">The record's position.</param>
/// <param name="NextPosition">The position after it: commit this once the record is delivered.</param>
/// <param name="AppendedAt">When the record was appended.</param>
/// <param name="Payload">The payload; it stays valid as long as it is referenced.</param>
internal readonly record struct SpoolRecord(long Position, long NextPosition, DateTimeOffset AppendedAt, ReadOnlyMemory<byte> Payload);

/// <summary>Records read by one <see cref="SpoolReader.ReadAsync"/>, in position order.</summary>
internal sealed class SpoolBatch(IReadOnlyList<SpoolRecord> records, long endPosition)
{
    public IReadOnlyList<SpoolRecord> Records { get; } = records;

    public int Count => Records.Count;

    /// <summary>Gets the position after the last record (the reader's position): commit it once the batch is delivered.</summary>
    public long EndPosition { get; } = endPosition;
}

/// <summary>How far a consumer is behind the spool's durable end.</summary>
/// <param name="Consumer">The consumer's name.</param>
/// <param name="CommittedPosition">The position up to which it has committed.</param>
/// <param name="Bytes">The bytes of records after its cursor.</param>
/// <param name="Events">The events of those records (records, for a spool opened without an event counter).</param>
/// <param name="OldestAge">How long ago its oldest uncommitted record was appended; zero when it has every record.</param>
internal readonly record struct SpoolConsumerLag(string Consumer, long CommittedPosition, long Bytes, long Events, TimeSpan OldestAge);

/// <summary>The spool's state for a health check.</summary>
/// <param name="Status">
/// Unhealthy when the folder cannot be written or the spool has stopped; degraded when it is 90% full, when the
/// last append was refused as full, or when a consumer lags beyond <see cref="SpoolOptions.MaxConsumerLag"/>;
/// healthy otherwise.
/// </param>
/// <param name="Description">Why, in one sentence.</param>
/// <param name="Bytes">The bytes counted against <paramref name="MaxBytes"/>.</param>
/// <param name="MaxBytes">The bound, <see cref="SpoolOptions.MaxBytes"/>.</param>
/// <param name="Segments">The segment files.</param>
/// <param name="DurablePosition">The position after the last record on disk.</param>
/// <param name="Consumers">Each consumer's lag.</param>
/// <param name="LastError">Why the folder cannot be written, when it cannot.</param>
internal sealed record SpoolHealth(
    HealthStatus Status,
    string Description,
    long Bytes,
    long MaxBytes,
    int Segments,
    long DurablePosition,
    IReadOnlyList<SpoolConsumerLag> Consumers,
    Exception? LastError);
