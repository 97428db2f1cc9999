namespace Evothesis.Collector.Sinks;

/// <summary>
/// A sink refuses a batch for good: writing the same events again will not help (a value the database rejects, a
/// bucket that does not exist, access denied). The spool consumer of the sink stops retrying the batch as one after
/// <see cref="Batching.BatchingOptions.ParkAfterAttempts"/> attempts, delivers its requests one by one, and parks the
/// ones the sink still refuses (beside the spool, for <c>evothesis-replay</c>), so that they do not block the others.
/// </summary>
/// <remarks>
/// Any other exception is taken as transient and retried, with backoff, for as long as the spool has room. The message
/// must not carry an event's values.
/// </remarks>
public sealed class EventsRejectedException : Exception
{
    /// <summary>Initializes a new instance of the <see cref="EventsRejectedException"/> class.</summary>
    public EventsRejectedException()
        : this("The sink refuses the events for good.")
    {
    }

    /// <summary>Initializes a new instance of the <see cref="EventsRejectedException"/> class.</summary>
    /// <param name="message">Why the events are refused, without their values.</param>
    public EventsRejectedException(string message)
        : this(message, null)
    {
    }

    /// <summary>Initializes a new instance of the <see cref="EventsRejectedException"/> class.</summary>
    /// <param name="message">Why the events are refused, without their values.</param>
    /// <param name="innerException">The sink's own error.</param>
    public EventsRejectedException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }
}
