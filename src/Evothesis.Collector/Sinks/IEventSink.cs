using Evothesis.Collector.Events;

namespace Evothesis.Collector.Sinks;

/// <summary>
/// Stores batches of events: a database, a bucket, a folder. Each sink is fed from the collector's write-ahead spool
/// by a consumer of its own, which retries a failed batch with backoff until it is stored.
/// </summary>
/// <remarks>
/// <para>
/// A write either stores the whole batch or throws; a sink must not report success for events it did not
/// store. A sink that stored every event of some clients and none of others may throw
/// <see cref="ClientWriteException"/> naming the latter. A sink that refuses events for good throws
/// <see cref="EventsRejectedException"/> (or a permanent <see cref="ClientWriteException"/>): after
/// <see cref="Batching.BatchingOptions.ParkAfterAttempts"/> attempts the refused events are parked beside the spool
/// instead of holding back the others. Any other exception is retried.
/// </para>
/// <para>
/// The same batch (same <see cref="EventBatch.Id"/>, from the spool position of its first record) may be written again
/// after a failure or a crash, so writes must be idempotent per batch. Writes are concurrent only for a sink that asks
/// for it with a delivery policy whose <c>MaxInFlight</c> is above 1; such a sink must be idempotent per event,
/// because after a crash its batches are read again from the last committed one with other boundaries.
/// </para>
/// </remarks>
public interface IEventSink
{
    /// <summary>Gets the sink's name, for logs and metric tags.</summary>
    string Name { get; }

    /// <summary>Writes a batch.</summary>
    /// <param name="batch">The batch.</param>
    /// <param name="cancellationToken">Cancels the write (timeout or shutdown).</param>
    /// <returns>A task that completes when the batch is stored.</returns>
    ValueTask WriteAsync(EventBatch batch, CancellationToken cancellationToken);
}
