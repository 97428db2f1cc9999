using Evothesis.Collector.Batching;
using Evothesis.Collector.Events;
using Microsoft.Extensions.Options;

namespace Evothesis.Collector.Sinks.Recent;

/// <summary>
/// A ring of the most recently stored events, filled after each batch is written, so
/// <c>GET /events/recent</c> shows stored values without a database.
/// </summary>
/// <remarks>
/// Filled by <see cref="RecentEventsObserver"/> only while it is the registered <see cref="IRecentEventStore"/>; a
/// sink with its own store (PostgreSQL) replaces it, and the ring then stays empty.
/// </remarks>
internal sealed class InMemoryRecentEventStore : IRecentEventStore
{
    private readonly CollectedEvent[] _ring;
    private readonly Lock _lock = new();

    // Guarded by _lock: the next slot to write and the number of filled slots.
    private int _next;
    private int _count;

    public InMemoryRecentEventStore(IOptions<CollectorOptions> options)
    {
        _ring = new CollectedEvent[options.Value.RecentEventsCapacity];
    }

    public void Add(EventBatch batch)
    {
        lock (_lock)
        {
            foreach (var e in batch.Events)
            {
                _ring[_next] = e;
                _next = (_next + 1) % _ring.Length;
                _count = Math.Min(_count + 1, _ring.Length);
            }
        }
    }

    public ValueTask<IReadOnlyList<CollectedEvent>> GetRecentAsync(int limit, string? clientId, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(limit);
        var result = new List<CollectedEvent>(Math.Min(limit, _ring.Length));
        lock (_lock)
        {
            for (var i = 1; i <= _count && result.Count < limit; i++)
            {
                var e = _ring[(_next - i + _ring.Length) % _ring.Length];
                if (clientId is null || e.ClientId == clientId)
                {
                    result.Add(e);
                }
            }
        }

        return ValueTask.FromResult<IReadOnlyList<CollectedEvent>>(result);
    }
}

/// <summary>Feeds committed batches to the in-memory ring when that ring is what serves recent events.</summary>
internal sealed class RecentEventsObserver(IRecentEventStore store) : IBatchCommitObserver
{
    private readonly InMemoryRecentEventStore? _ring = store as InMemoryRecentEventStore;

    public void OnCommitted(EventBatch batch) => _ring?.Add(batch);
}
