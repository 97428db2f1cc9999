using System.Collections.Concurrent;
using Evothesis.Collector.Events;
using Evothesis.Collector.Sinks;

namespace Evothesis.Collector.Tests.Support;

/// <summary>
/// A sink that keeps every batch it is given and signals each write; can be told to fail, and notes when it wrote
/// relative to other sinks.
/// </summary>
public sealed class InMemoryEventSink : IEventSink
{
    private readonly ConcurrentQueue<EventBatch> _batches = new();
    private TaskCompletionSource _written = NewSignal();

    public string Name => "memory";

    public bool Fail { get; set; }

    /// <summary>Runs before each write, for tests that check ordering.</summary>
    public Action? OnWrite { get; set; }

    public IReadOnlyList<EventBatch> Batches => _batches.ToArray();

    public IReadOnlyList<CollectedEvent> Events => _batches.SelectMany(b => b.Events).ToArray();

    /// <summary>Gets a task that completes at the next write.</summary>
    public Task NextWrite => Volatile.Read(ref _written).Task;

    public ValueTask WriteAsync(EventBatch batch, CancellationToken cancellationToken)
    {
        OnWrite?.Invoke();
        if (Fail)
        {
            throw new IOException("The in-memory sink was told to fail.");
        }

        _batches.Enqueue(batch);
        Interlocked.Exchange(ref _written, NewSignal()).TrySetResult();
        return ValueTask.CompletedTask;
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}
