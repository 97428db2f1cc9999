using System.Collections.Concurrent;
using Evothesis.Collector.Events;
using Evothesis.Collector.Sinks;

namespace Evothesis.Collector.Tests.Support;

/// <summary>Records every batch written to it.</summary>
public sealed class InMemoryEventSink : IEventSink
{
    private readonly ConcurrentQueue<EventBatch> _batches = new();

    public string Name => "memory";

    public IReadOnlyList<EventBatch> Batches => [.. _batches];

    public IReadOnlyList<CollectedEvent> Events => [.. _batches.SelectMany(b => b.Events)];

    public ValueTask WriteAsync(EventBatch batch, CancellationToken cancellationToken)
    {
        _batches.Enqueue(batch);
        return ValueTask.CompletedTask;
    }
}
