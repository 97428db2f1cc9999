namespace Evothesis.Collector.Events;

/// <summary>A batch of events handed to every <see cref="Sinks.IEventSink"/> in one write.</summary>
/// <remarks>
/// A batch may hold events of several clients. Its <see cref="Id"/> does not change when the same batch is
/// written again, so sinks can derive idempotent keys from it.
/// </remarks>
public sealed class EventBatch
{
    /// <summary>Initializes a new instance of the <see cref="EventBatch"/> class.</summary>
    /// <param name="id">The batch identifier.</param>
    /// <param name="createdAt">When the batch was closed.</param>
    /// <param name="events">The events, in arrival order.</param>
    public EventBatch(Guid id, DateTimeOffset createdAt, IReadOnlyList<CollectedEvent> events)
    {
        ArgumentNullException.ThrowIfNull(events);
        Id = id;
        CreatedAt = createdAt;
        Events = events;
    }

    /// <summary>Gets the batch identifier, a UUIDv7.</summary>
    public Guid Id { get; }

    /// <summary>Gets when the batch was closed, in UTC.</summary>
    public DateTimeOffset CreatedAt { get; }

    /// <summary>Gets the events, in arrival order.</summary>
    public IReadOnlyList<CollectedEvent> Events { get; }

    /// <summary>Gets the number of events.</summary>
    public int Count => Events.Count;
}
