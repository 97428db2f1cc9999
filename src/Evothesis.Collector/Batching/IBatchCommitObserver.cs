using Evothesis.Collector.Events;

namespace Evothesis.Collector.Batching;

/// <summary>Told about every batch after all sinks stored it.</summary>
internal interface IBatchCommitObserver
{
    void OnCommitted(EventBatch batch);
}
