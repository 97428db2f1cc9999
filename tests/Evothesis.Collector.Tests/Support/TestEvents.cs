using Evothesis.Collector.Events;

namespace Evothesis.Collector.Tests.Support;

/// <summary>Builds events as the pipeline would: UTC times truncated to microseconds, UUIDv7 ids.</summary>
public static class TestEvents
{
    public static readonly DateTimeOffset DefaultReceivedAt = Microseconds(DateTimeOffset.UtcNow);

    /// <summary>A fixed instant, for tests that drive a fake clock.</summary>
    public static readonly DateTimeOffset ReceivedAt = new(2026, 11, 26, 12, 0, 0, TimeSpan.Zero);

    public static DateTimeOffset Microseconds(DateTimeOffset value) =>
        new(value.UtcTicks - (value.UtcTicks % 10), TimeSpan.Zero);

    public static CollectedEvent Create(
        string clientId = "client_test",
        string? eventId = null,
        string eventType = "pageview",
        DateTimeOffset? receivedAt = null,
        string siteId = "localhost",
        string? sessionId = "sess_1",
        string? userAgent = "Mozilla/5.0 (X11; Linux x86_64)",
        string? ip = "203.0.113.9",
        string pageData = """{"url":"https://localhost/p?q=1","title":"Catalog"}""",
        string? eventData = null,
        string? customData = null,
        string? consent = null,
        Guid? id = null)
    {
        var received = Microseconds(receivedAt ?? DefaultReceivedAt);
        return new CollectedEvent
        {
            Id = id ?? Guid.CreateVersion7(received),
            EventId = eventId,
            EventType = eventType,
            ClientId = clientId,
            SiteId = siteId,
            SessionId = sessionId,
            Timestamp = received.AddMilliseconds(-1500),
            ClientTimestamp = received.AddMilliseconds(-1500).ToString("O"),
            ReceivedAt = received,
            PageData = RawJson.Parse(pageData),
            EventData = eventData is null ? RawJson.Null : RawJson.Parse(eventData),
            CustomData = customData is null ? RawJson.Null : RawJson.Parse(customData),
            Consent = consent is null ? RawJson.Null : RawJson.Parse(consent),
            Ip = ip,
            UserAgent = userAgent,
        };
    }

    public static List<CollectedEvent> Many(int count, string clientId = "client_test") =>
        Enumerable.Range(0, count).Select(i => Create(eventId: $"e{i}", clientId: clientId)).ToList();

    public static EventBatch Batch(params CollectedEvent[] events) =>
        new(Guid.CreateVersion7(), DateTimeOffset.UtcNow, events);
}
