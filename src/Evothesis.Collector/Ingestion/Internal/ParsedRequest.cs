using Evothesis.Collector.Events;

namespace Evothesis.Collector.Ingestion.Internal;

/// <summary>A request body read and validated against the wire contract, before attribution.</summary>
internal sealed class ParsedRequest
{
    public bool IsBatch { get; init; }

    /// <summary>Gets the number of events the body carried (1 for a single event).</summary>
    public int MemberCount { get; init; }

    /// <summary>Gets the site the envelope names, or the one every event names, if any.</summary>
    public string? SiteId { get; init; }

    /// <summary>Gets the envelope's <c>sentAt</c>, for clock-skew correction.</summary>
    public DateTimeOffset? SentAt { get; init; }

    public required List<ParsedEvent> Events { get; init; }

    public required List<Rejection> Rejected { get; init; }
}

/// <summary>One valid event of a request, with what it inherits from its envelope already applied.</summary>
internal sealed class ParsedEvent
{
    public int Index { get; init; }

    public required string EventType { get; init; }

    public string? EventId { get; init; }

    public string? SessionId { get; init; }

    public string? SiteId { get; init; }

    /// <summary>Gets a value indicating whether <see cref="SiteId"/> is the event's own, not inherited.</summary>
    public bool HasOwnSiteId { get; init; }

    public string? ClientTimestamp { get; init; }

    public DateTimeOffset? Timestamp { get; init; }

    public RawJson PageData { get; init; }

    public RawJson EventData { get; init; }

    public RawJson CustomData { get; init; }

    public RawJson Consent { get; init; }
}
