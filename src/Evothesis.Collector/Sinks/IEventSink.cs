using Evothesis.Collector.Events;

namespace Evothesis.Collector.Sinks;

/// <summary>
/// Stores batches of events: a database, a bucket, a folder. The collector writes every batch to every
/// registered sink and acknowledges the batch's requests only when all of them succeeded.
/// </summary>
/// <remarks>
/// A write either stores the whole batch or throws; a sink must not report success for events it did not
/// store. A sink that stored every event of some clients and none of others may throw
/// <see cref="ClientWriteException"/> naming the latter: only their requests are then refused. The same batch (same <see cref="EventBatch.Id"/>) may be written again after a failure, so writes
/// should be idempotent per batch. Writes are never concurrent for one sink.
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
