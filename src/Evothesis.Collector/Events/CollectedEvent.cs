namespace Evothesis.Collector.Events;

/// <summary>
/// An event accepted at <c>/collect</c>, attributed to a client and enriched by the server: what sinks store.
/// </summary>
/// <remarks>
/// Identity and attribution (<see cref="Id"/>, <see cref="ClientId"/>, <see cref="SiteId"/>,
/// <see cref="ReceivedAt"/>) and the timestamps are fixed when the event is created. What the client sent may
/// be rewritten by <see cref="Privacy.IEventProcessor"/>s before the event is queued: the payloads,
/// <see cref="EventId"/>, <see cref="EventType"/>, <see cref="SessionId"/>, <see cref="Ip"/> and
/// <see cref="UserAgent"/> (the collector's own redaction does so when they hold personal data). After that
/// the event is shared by the sinks and must not change.
/// </remarks>
public sealed class CollectedEvent
{
    /// <summary>Gets the server-assigned identifier, a UUIDv7 ordered by <see cref="ReceivedAt"/>.</summary>
    public required Guid Id { get; init; }

    /// <summary>
    /// Gets or sets the client-assigned identifier used to recognise retries of the same event, if any.
    /// Redaction removes one that holds personal data.
    /// </summary>
    public string? EventId { get; set; }

    /// <summary>Gets or sets the event type, such as <c>pageview</c> or <c>purchase</c>.</summary>
    /// <exception cref="ArgumentNullException">The value set is <see langword="null"/>.</exception>
    public required string EventType
    {
        get;
        set
        {
            ArgumentNullException.ThrowIfNull(value);
            field = value;
        }
    }

    /// <summary>Gets the client the event is attributed to.</summary>
    public required string ClientId { get; init; }

    /// <summary>Gets the authorized domain the event was sent from.</summary>
    public required string SiteId { get; init; }

    /// <summary>Gets or sets the browser session identifier, if any.</summary>
    public string? SessionId { get; set; }

    /// <summary>Gets when the event happened, in UTC: the client's time corrected for its clock skew.</summary>
    public required DateTimeOffset Timestamp { get; init; }

    /// <summary>Gets the timestamp exactly as the client sent it, if it sent one.</summary>
    public string? ClientTimestamp { get; init; }

    /// <summary>Gets when the collector received the event, in UTC.</summary>
    public required DateTimeOffset ReceivedAt { get; init; }

    /// <summary>Gets or sets the page context (<c>page_data</c>): url, title, referrer and the like.</summary>
    public RawJson PageData { get; set; }

    /// <summary>Gets or sets the event's own data (<c>event_data</c>).</summary>
    public RawJson EventData { get; set; }

    /// <summary>
    /// Gets or sets the top-level fields the wire contract does not name (such as <c>visitorId</c> or
    /// <c>url</c>), kept as one JSON object so nothing a client sends is lost.
    /// </summary>
    public RawJson CustomData { get; set; }

    /// <summary>Gets or sets the consent the client declared for the event (<c>consent</c>), as sent.</summary>
    public RawJson Consent { get; set; }

    /// <summary>
    /// Gets or sets the client IP as the client's privacy rules allow it to be stored: the address, its
    /// keyed hash, or <see langword="null"/>.
    /// </summary>
    public string? Ip { get; set; }

    /// <summary>Gets or sets the <c>User-Agent</c> the event was sent with.</summary>
    public string? UserAgent { get; set; }

    // The event's position in the request, for the response's "rejected" list. Not stored.
    internal int RequestIndex { get; init; }

    // The client's own bucket (ClientConfig.S3Bucket) when it has one, fixed when the event is attributed so
    // the object goes where the client's configuration said at that moment. Not stored.
    internal string? DedicatedBucket { get; init; }
}
