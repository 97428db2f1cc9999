using Evothesis.Collector.Authorization;
using Evothesis.Collector.Events;
using Evothesis.Collector.Ingestion;
using Evothesis.Collector.Privacy.Internal;

namespace Evothesis.Collector.Privacy;

/// <summary>The events of one request on their way through the <see cref="IEventProcessor"/>s.</summary>
public sealed class EventProcessingContext
{
    private readonly List<CollectedEvent> _events;
    private List<(CollectedEvent Event, string Reason)>? _dropped;

    internal EventProcessingContext(
        ClientConfig client,
        string domain,
        CollectorRequest request,
        List<CollectedEvent> events,
        RedactionRecorder? redactions = null)
    {
        Client = client;
        Domain = domain;
        Request = request;
        _events = events;
        Redactions = redactions ?? new RedactionRecorder(collectLocations: false);
    }

    /// <summary>Gets the client the events are attributed to, with its privacy rules.</summary>
    public ClientConfig Client { get; }

    /// <summary>Gets the authorized domain the events come from.</summary>
    public string Domain { get; }

    /// <summary>Gets the request the events arrived in. Its body has already been read.</summary>
    public CollectorRequest Request { get; }

    /// <summary>Gets the events still to be stored, in request order.</summary>
    public IReadOnlyList<CollectedEvent> Events => _events;

    // What the collector's redaction changed, for metrics and the audit record.
    internal RedactionRecorder Redactions { get; }

    internal IReadOnlyList<(CollectedEvent Event, string Reason)> Dropped =>
        (IReadOnlyList<(CollectedEvent Event, string Reason)>?)_dropped ?? [];

    /// <summary>Drops an event: it is not stored, and the response lists it as rejected with <paramref name="reason"/>.</summary>
    /// <param name="collectedEvent">One of <see cref="Events"/>.</param>
    /// <param name="reason">A short snake_case reason, such as <c>consent</c>; it appears in responses and metric tags.</param>
    public void Drop(CollectedEvent collectedEvent, string reason)
    {
        ArgumentNullException.ThrowIfNull(collectedEvent);
        ArgumentException.ThrowIfNullOrWhiteSpace(reason);
        if (_events.Remove(collectedEvent))
        {
            (_dropped ??= []).Add((collectedEvent, reason));
        }
    }
}
