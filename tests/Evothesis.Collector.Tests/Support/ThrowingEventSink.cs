using Evothesis.Collector.Events;
using Evothesis.Collector.Sinks;

namespace Evothesis.Collector.Tests.Support;

/// <summary>A sink whose writes fail (while <see cref="Failing"/> is set) the way a broken database would.</summary>
public sealed class ThrowingEventSink : IEventSink
{
    private int _attempts;

    public string Name => "throwing";

    public bool Failing { get; set; } = true;

    public int Attempts => Volatile.Read(ref _attempts);

    public List<EventBatch> Written { get; } = [];

    public ValueTask WriteAsync(EventBatch batch, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _attempts);
        if (Failing)
        {
            throw new IOException("The storage is unavailable.");
        }

        lock (Written)
        {
            Written.Add(batch);
        }

        return ValueTask.CompletedTask;
    }
}
