using Evothesis.Collector.Batching;
using Evothesis.Collector.Events;
using Microsoft.Extensions.Options;

namespace Evothesis.Collector.Sinks.Recent;

/// <summary>
/// The most recently stored events, filled after each batch is written, so <c>GET /events/recent</c> shows stored
/// values without a database. Bounded by <see cref="CollectorOptions.RecentEventsCapacity"/> events and by
/// <see cref="CollectorOptions.RecentEventsCapacityBytes"/>: the oldest events leave first.
/// </summary>
/// <remarks>
/// Filled by <see cref="RecentEventsObserver"/> only once <c>MapEvothesisRecentEvents()</c> serves it
/// (<see cref="Serve"/>), and only while it is the registered <see cref="IRecentEventStore"/>: a sink with its own
/// store (PostgreSQL) replaces it, and a host that does not map the endpoint pays nothing. Each kept event is a
/// copy whose payloads are detached from its request body, so a kept event never pins a whole body in memory.
/// </remarks>
internal sealed class InMemoryRecentEventStore : IRecentEventStore
{
    // What one kept event costs beside its payload and string bytes (the object and its fields).
    private const int BytesPerEvent = 256;

    private readonly int _capacity;
    private readonly long _capacityBytes;
    private readonly Lock _lock = new();

    // Guarded by _lock: the events kept, oldest first, with their sizes, and the sum of the sizes.
    private readonly Queue<(CollectedEvent Event, long Bytes)> _events = new();
    private long _bytes;

    // Set once by the endpoint mapping; read by the commit observer.
    private volatile bool _serving;

    public InMemoryRecentEventStore(IOptions<CollectorOptions> options)
    {
        _capacity = options.Value.RecentEventsCapacity;
        _capacityBytes = options.Value.RecentEventsCapacityBytes;
    }

    /// <summary>Gets a value indicating whether an endpoint serves the store, so it is filled.</summary>
    public bool IsServing => _serving;

    /// <summary>Gets the bytes the kept events hold.</summary>
    public long Bytes
    {
        get
        {
            lock (_lock)
            {
                return _bytes;
            }
        }
    }

    /// <summary>Starts filling the store: an endpoint now serves it.</summary>
    public void Serve() => _serving = true;

    public void Add(EventBatch batch)
    {
        if (!_serving)
        {
            return;
        }

        // Copied outside the lock: the copy is the expensive part.
        var copies = new (CollectedEvent Event, long Bytes)[batch.Events.Count];
        for (var i = 0; i < copies.Length; i++)
        {
            copies[i] = Detach(batch.Events[i]);
        }

        lock (_lock)
        {
            foreach (var copy in copies)
            {
                if (copy.Bytes > _capacityBytes)
                {
                    continue;
                }

                _events.Enqueue(copy);
                _bytes += copy.Bytes;
                while (_events.Count > _capacity || _bytes > _capacityBytes)
                {
                    _bytes -= _events.Dequeue().Bytes;
                }
            }
        }
    }

    public ValueTask<IReadOnlyList<CollectedEvent>> GetRecentAsync(int limit, string? clientId, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(limit);
        List<CollectedEvent> result;
        lock (_lock)
        {
            result = new List<CollectedEvent>(Math.Min(limit, _events.Count));
            var kept = _events.ToArray();
            for (var i = kept.Length - 1; i >= 0 && result.Count < limit; i--)
            {
                var e = kept[i].Event;
                if (clientId is null || e.ClientId == clientId)
                {
                    result.Add(e);
                }
            }
        }

        return ValueTask.FromResult<IReadOnlyList<CollectedEvent>>(result);
    }

    private static (CollectedEvent Event, long Bytes) Detach(CollectedEvent e)
    {
        var copy = new CollectedEvent
        {
            Id = e.Id,
            EventId = e.EventId,
            EventType = e.EventType,
            ClientId = e.ClientId,
            SiteId = e.SiteId,
            SessionId = e.SessionId,
            Timestamp = e.Timestamp,
            ClientTimestamp = e.ClientTimestamp,
            ReceivedAt = e.ReceivedAt,
            PageData = Copy(e.PageData),
            EventData = Copy(e.EventData),
            CustomData = Copy(e.CustomData),
            Consent = Copy(e.Consent),
            Ip = e.Ip,
            UserAgent = e.UserAgent,
            RequestIndex = e.RequestIndex,
            DedicatedBucket = e.DedicatedBucket,
        };

        var bytes = BytesPerEvent
            + Size(copy.PageData) + Size(copy.EventData) + Size(copy.CustomData) + Size(copy.Consent)
            + (2L * ((copy.EventId?.Length ?? 0) + copy.EventType.Length + (copy.SessionId?.Length ?? 0)
                + (copy.ClientTimestamp?.Length ?? 0) + (copy.Ip?.Length ?? 0) + (copy.UserAgent?.Length ?? 0)));
        return (copy, bytes);

        static RawJson Copy(RawJson value) => value.IsNull ? default : RawJson.FromValidated(value.Utf8.ToArray());

        static long Size(RawJson value) => value.IsNull ? 0 : value.Utf8.Length;
    }
}

/// <summary>Feeds committed batches to the in-memory store when that store is what serves recent events.</summary>
internal sealed class RecentEventsObserver(IRecentEventStore store) : IBatchCommitObserver
{
    private readonly InMemoryRecentEventStore? _store = store as InMemoryRecentEventStore;

    public void OnCommitted(EventBatch batch) => _store?.Add(batch);
}
