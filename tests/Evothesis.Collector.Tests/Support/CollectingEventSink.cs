using System.Collections.Concurrent;
using Evothesis.Collector.Events;
using Evothesis.Collector.Sinks;

namespace Evothesis.Collector.Tests.Support;

/// <summary>Keeps every batch it is given; can be told to fail, and notes when it wrote relative to other sinks.</summary>
public sealed class CollectingEventSink : IEventSink
{
    private readonly ConcurrentQueue<EventBatch> _batches = new();

    public string Name => "collecting";

    public bool Fail { get; set; }

    /// <summary>Runs before each write, for tests that check ordering.</summary>
    public Action? OnWrite { get; set; }

    public IReadOnlyList<EventBatch> Batches => _batches.ToArray();

    public IReadOnlyList<CollectedEvent> Events => _batches.SelectMany(b => b.Events).ToArray();

    public ValueTask WriteAsync(EventBatch batch, CancellationToken cancellationToken)
    {
        OnWrite?.Invoke();
        if (Fail)
        {
            throw new IOException("The collecting sink was told to fail.");
        }

        _batches.Enqueue(batch);
        return ValueTask.CompletedTask;
    }
}
