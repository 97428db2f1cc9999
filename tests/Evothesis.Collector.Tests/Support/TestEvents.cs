using Evothesis.Collector.Events;

namespace Evothesis.Collector.Tests.Support;

/// <summary>Builds events for tests.</summary>
public static class TestEvents
{
    public static readonly DateTimeOffset ReceivedAt = new(2026, 11, 26, 12, 0, 0, TimeSpan.Zero);

    public static CollectedEvent Create(
        string eventType = "pageview",
        string clientId = "client_test",
        string siteId = "localhost",
        DateTimeOffset? receivedAt = null,
        string? eventData = null,
        string? eventId = null) =>
        new()
        {
            Id = Guid.CreateVersion7(receivedAt ?? ReceivedAt),
            EventId = eventId,
            EventType = eventType,
            ClientId = clientId,
            SiteId = siteId,
            SessionId = "s1",
            Timestamp = receivedAt ?? ReceivedAt,
            ReceivedAt = receivedAt ?? ReceivedAt,
            EventData = eventData is null ? RawJson.Null : RawJson.Parse(eventData),
        };

    public static List<CollectedEvent> Many(int count, string clientId = "client_test") =>
        Enumerable.Range(0, count).Select(i => Create(eventId: $"e{i}", clientId: clientId)).ToList();
}
