using Evothesis.Collector.Events;
using Evothesis.Collector.Sinks;

namespace Evothesis.Collector.Tests.Support;

/// <summary>A sink whose writes wait until the test releases them, to hold batches in flight.</summary>
public sealed class BlockingEventSink : IEventSink
{
    private readonly TaskCompletionSource _release = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _entered = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public string Name => "blocking";

    private readonly List<EventBatch> _written = [];

    /// <summary>Gets a snapshot of the batches written so far (the consumer adds to them on its own thread).</summary>
    public IReadOnlyList<EventBatch> Written
    {
        get
        {
            lock (_written)
            {
                return [.. _written];
            }
        }
    }

    /// <summary>Gets a task that completes when the first write has started.</summary>
    public Task Entered => _entered.Task;

    public void Release() => _release.TrySetResult();

    public async ValueTask WriteAsync(EventBatch batch, CancellationToken cancellationToken)
    {
        _entered.TrySetResult();
        await _release.Task.WaitAsync(cancellationToken);
        lock (_written)
        {
            _written.Add(batch);
        }
    }
}
