using Evothesis.Collector.Events;

namespace Evothesis.Collector.Tests.Support;

/// <summary>Builds events with every stored field set, and batches of them, so round-trip tests cover every field.</summary>
public static class StoredEvents
{
    public static CollectedEvent Create(
        string clientId = "client_a",
        DateTimeOffset? receivedAt = null,
        string eventType = "pageview",
        string? eventId = null,
        string siteId = "shop.example.com",
        string? dedicatedBucket = null,
        int payloadBytes = 0)
    {
        var received = receivedAt ?? new DateTimeOffset(2026, 11, 26, 10, 15, 30, TimeSpan.Zero).AddTicks(1230);
        var filler = payloadBytes > 0 ? Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(payloadBytes * 3 / 4)) : "x";
        return new CollectedEvent
        {
            Id = Guid.CreateVersion7(received),
            EventId = eventId ?? "e-" + Guid.NewGuid().ToString("N")[..8],
            EventType = eventType,
            ClientId = clientId,
            SiteId = siteId,
            SessionId = "s-1",
            Timestamp = received.AddSeconds(-2),
            ClientTimestamp = "2026-11-26T10:15:28.000Z",
            ReceivedAt = received,
            PageData = RawJson.Parse("""{"url":"https://shop.example.com/p?q=1","title":"Café \"Ünïcode\" ✓","referrer":null}"""),
            EventData = RawJson.Parse($$"""{"order_id":"ORD-1","value":299.99,"items":[1,2,3],"blob":"{{filler}}"}"""),
            CustomData = RawJson.Parse("""{"visitorId":"v-42"}"""),
            Consent = RawJson.Parse("""{"analytics":true}"""),
            Ip = "203.0.113.7",
            UserAgent = "Mozilla/5.0 (X11; Linux x86_64)",
            DedicatedBucket = dedicatedBucket,
        };
    }

    public static EventBatch Batch(DateTimeOffset createdAt, params CollectedEvent[] events) =>
        new(Guid.CreateVersion7(createdAt), createdAt, events);

    /// <summary>Asserts two events are the same in every stored field.</summary>
    public static void ShouldEqualStored(this CollectedEvent actual, CollectedEvent expected)
    {
        actual.Id.Should().Be(expected.Id);
        actual.EventId.Should().Be(expected.EventId);
        actual.EventType.Should().Be(expected.EventType);
        actual.ClientId.Should().Be(expected.ClientId);
        actual.SiteId.Should().Be(expected.SiteId);
        actual.SessionId.Should().Be(expected.SessionId);
        actual.Timestamp.Should().Be(expected.Timestamp);
        actual.ClientTimestamp.Should().Be(expected.ClientTimestamp);
        actual.ReceivedAt.Should().Be(expected.ReceivedAt);
        actual.PageData.ToString().Should().Be(expected.PageData.ToString());
        actual.EventData.ToString().Should().Be(expected.EventData.ToString());
        actual.CustomData.ToString().Should().Be(expected.CustomData.ToString());
        actual.Consent.ToString().Should().Be(expected.Consent.ToString());
        actual.Ip.Should().Be(expected.Ip);
        actual.UserAgent.Should().Be(expected.UserAgent);
    }
}
