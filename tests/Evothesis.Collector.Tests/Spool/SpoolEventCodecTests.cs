using Evothesis.Collector.Audit;
using Evothesis.Collector.Events;
using Evothesis.Collector.Spool.Internal;
using Evothesis.Collector.Tests.Support;

namespace Evothesis.Collector.Tests.Spool;

public class SpoolEventCodecTests
{
    [Test]
    public void Decode_EncodedEvents_EqualTheOriginalsIncludingInternalFields()
    {
        var events = new List<CollectedEvent>
        {
            With(TestEvents.Create(eventId: "e1", eventData: """{"order_id":"ORD-1","value":299.99}""", consent: """{"analytics":true}"""), requestIndex: 0, bucket: "acme-lake"),
            With(TestEvents.Create(eventId: null, sessionId: null, ip: null, userAgent: null, customData: """{"visitorId":"v1"}"""), requestIndex: 7, bucket: null),
        };

        var decoded = SpoolEventCodec.Decode(SpoolEventCodec.Encode(events, audit: null));

        decoded.Audit.Should().BeNull();
        AssertEqual(decoded.Events, events);
    }

    [Test]
    public void Decode_EventIds_RoundTripExactly()
    {
        var ids = new[] { Guid.CreateVersion7(), Guid.Empty, Guid.Parse("ffffffff-ffff-ffff-ffff-ffffffffffff"), Guid.NewGuid() };
        var events = ids.Select(id => TestEvents.Create(id: id)).ToList();

        var decoded = SpoolEventCodec.Decode(SpoolEventCodec.Encode(events, null));

        decoded.Events.Select(e => e.Id).Should().Equal(ids);
    }

    [Test]
    public void Decode_UnicodeStringsAndJson_RoundTrip()
    {
        var e = TestEvents.Create(
            eventId: "événement-🎉",
            eventType: "achat_完了",
            sessionId: "セッション",
            userAgent: "Mozilla/5.0 (Ünïcödé; \u0000 nul)",
            pageData: """{"title":"Каталог — «новинки» 🛒","url":"https://shop.example/ü?q=ß"}""",
            eventData: """{"emoji":"\ud83d\ude00","escaped":"\u00e9"}""");

        var decoded = SpoolEventCodec.Decode(SpoolEventCodec.Encode([e], null)).Events.Single();

        decoded.EventId.Should().Be("événement-🎉");
        decoded.EventType.Should().Be("achat_完了");
        decoded.SessionId.Should().Be("セッション");
        decoded.UserAgent.Should().Be("Mozilla/5.0 (Ünïcödé; \u0000 nul)");
        decoded.PageData.Utf8.ToArray().Should().Equal(e.PageData.Utf8.ToArray());
        decoded.EventData.Utf8.ToArray().Should().Equal(e.EventData.Utf8.ToArray());
    }

    [Test]
    public void Decode_NullsEmptyStringsAndJsonLiterals_RoundTrip()
    {
        var e = TestEvents.Create(eventId: "", sessionId: "", pageData: "null", eventData: "[]", customData: "{}", consent: "\"\"");

        var decoded = SpoolEventCodec.Decode(SpoolEventCodec.Encode([e], null)).Events.Single();

        decoded.EventId.Should().BeEmpty("an empty string is not null");
        decoded.SessionId.Should().BeEmpty();
        decoded.PageData.IsNull.Should().BeTrue();
        decoded.EventData.ToString().Should().Be("[]");
        decoded.CustomData.ToString().Should().Be("{}");
        decoded.Consent.ToString().Should().Be("\"\"");
        decoded.ClientTimestamp.Should().Be(e.ClientTimestamp);
    }

    [Test]
    public void Decode_LargePayload_RoundTrips()
    {
        var big = new string('x', 2_000_000);
        var e = TestEvents.Create(eventData: $$"""{"blob":"{{big}}"}""", userAgent: big);

        var payload = SpoolEventCodec.Encode([e], null);
        var decoded = SpoolEventCodec.Decode(payload).Events.Single();

        decoded.EventData.Should().Be(e.EventData);
        decoded.UserAgent.Should().Be(big);
        payload.Length.Should().BeLessThan(4_100_000, "values are stored once, as UTF-8, with small length prefixes");
    }

    [Test]
    public void Decode_NoEvents_RoundTrips()
    {
        SpoolEventCodec.Decode(SpoolEventCodec.Encode([], null)).Events.Should().BeEmpty();
    }

    [Test]
    public void Decode_AuditRecord_RoundTrips()
    {
        var audit = new AuditRecord
        {
            Id = Guid.CreateVersion7(),
            Time = new DateTimeOffset(2026, 11, 26, 12, 0, 0, 123, TimeSpan.Zero).AddTicks(4567),
            ClientId = "client_hipaa",
            SiteId = "clinic.example",
            RequestId = "0HN7:00000001",
            EventCount = 3,
            EventTypes = new Dictionary<string, int> { ["pageview"] = 2, ["callback [redacted:phone]"] = 1 },
            IpHash = "9f86d081884c7d65",
            Redactions = ["email:event_data.message", "form_value:event_data.fields.phone"],
        };

        var decoded = SpoolEventCodec.Decode(SpoolEventCodec.Encode(TestEvents.Many(3), audit));

        decoded.Events.Should().HaveCount(3);
        decoded.Audit.Should().BeEquivalentTo(audit);
        decoded.Audit!.Time.Ticks.Should().Be(audit.Time.Ticks);
        decoded.Audit.EventTypes.Keys.Should().Equal(audit.EventTypes.Keys);
    }

    [Test]
    public void Decode_AuditRecordWithoutOptionalValues_RoundTrips()
    {
        var audit = new AuditRecord
        {
            Id = Guid.CreateVersion7(),
            Time = TestEvents.ReceivedAt,
            ClientId = "c",
            SiteId = "s",
            EventCount = 0,
            EventTypes = new Dictionary<string, int>(),
        };

        var decoded = SpoolEventCodec.Decode(SpoolEventCodec.Encode([], audit));

        decoded.Audit.Should().BeEquivalentTo(audit);
    }

    [Test]
    public void Decode_TimesWithAnOffset_KeepTheirInstantAndOffset()
    {
        var timestamp = new DateTimeOffset(2026, 3, 1, 8, 30, 15, TimeSpan.FromHours(-5)).AddTicks(1);
        var e = new CollectedEvent
        {
            Id = Guid.CreateVersion7(),
            EventType = "pageview",
            ClientId = "c",
            SiteId = "s",
            Timestamp = timestamp,
            ReceivedAt = timestamp.ToUniversalTime(),
        };

        var decoded = SpoolEventCodec.Decode(SpoolEventCodec.Encode([e], null)).Events.Single();

        decoded.Timestamp.Should().Be(timestamp);
        decoded.Timestamp.Offset.Should().Be(TimeSpan.FromHours(-5));
        decoded.ReceivedAt.Should().Be(e.ReceivedAt);
        decoded.PageData.IsNull.Should().BeTrue();
    }

    [Test]
    public void Decode_DamagedPayload_ThrowsInvalidData()
    {
        var payload = SpoolEventCodec.Encode(TestEvents.Many(2), null);

        FluentActions.Invoking(() => SpoolEventCodec.Decode(payload.AsMemory(0, payload.Length - 1))).Should().Throw<InvalidDataException>();
        FluentActions.Invoking(() => SpoolEventCodec.Decode(payload.Append((byte)0).ToArray())).Should().Throw<InvalidDataException>();
        payload[0] = 99;
        FluentActions.Invoking(() => SpoolEventCodec.Decode(payload)).Should().Throw<InvalidDataException>().WithMessage("*version 99*");
        FluentActions.Invoking(() => SpoolEventCodec.Decode(new byte[] { 1, 0, 0xFF, 0xFF, 0xFF, 0x0F })).Should().Throw<InvalidDataException>();
    }

    [Test]
    public void Encode_LoneSurrogate_Throws()
    {
        var e = TestEvents.Create(userAgent: "bad \ud800 text");

        FluentActions.Invoking(() => SpoolEventCodec.Encode([e], null)).Should().Throw<ArgumentException>();
    }

    [TestCase(0)]
    [TestCase(127)]
    [TestCase(128)]
    [TestCase(16_383)]
    [TestCase(16_384)]
    [TestCase(int.MaxValue)]
    [TestCase(-1)]
    public void Decode_RequestIndexAcrossVarintWidths_RoundTrips(int requestIndex)
    {
        var e = With(TestEvents.Create(), requestIndex, bucket: "b");

        SpoolEventCodec.Decode(SpoolEventCodec.Encode([e], null)).Events.Single().RequestIndex.Should().Be(requestIndex);
    }

    [TestCase(0)]
    [TestCase(1)]
    [TestCase(127)]
    [TestCase(128)]
    [TestCase(300)]
    public void EventCount_EncodedPayload_IsTheNumberOfEvents(int count)
    {
        var payload = SpoolEventCodec.Encode(TestEvents.Many(count), null);

        SpoolEventCodec.EventCount(payload).Should().Be(count);
    }

    [Test]
    public void EventCount_PayloadItCannotRead_IsZero()
    {
        var payload = SpoolEventCodec.Encode(TestEvents.Many(5), null);
        payload[0] = 2;

        SpoolEventCodec.EventCount(payload).Should().Be(0, "another version");
        SpoolEventCodec.EventCount(new byte[] { SpoolEventCodec.Version, 0 }).Should().Be(0, "no count");
        SpoolEventCodec.EventCount(new byte[] { SpoolEventCodec.Version, 0, 0x85 }).Should().Be(0, "a count cut short");
        SpoolEventCodec.EventCount(new byte[] { SpoolEventCodec.Version, 0, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01 }).Should().Be(0, "a count longer than five bytes");
        SpoolEventCodec.EventCount(new byte[] { SpoolEventCodec.Version, 0, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F }).Should().Be(int.MaxValue);
    }

    [Test]
    public void HasAuditRecord_TellsPayloadsWithAnAuditRecordApart()
    {
        var audit = new AuditRecord
        {
            Id = Guid.CreateVersion7(),
            Time = TestEvents.ReceivedAt,
            ClientId = "c",
            SiteId = "s",
            EventCount = 1,
            EventTypes = new Dictionary<string, int> { ["pageview"] = 1 },
        };

        SpoolEventCodec.HasAuditRecord(SpoolEventCodec.Encode(TestEvents.Many(1), audit)).Should().BeTrue();
        SpoolEventCodec.HasAuditRecord(SpoolEventCodec.Encode(TestEvents.Many(1), null)).Should().BeFalse();
        SpoolEventCodec.HasAuditRecord(new byte[] { SpoolEventCodec.Version }).Should().BeFalse();
        SpoolEventCodec.HasAuditRecord(new byte[] { 2, 1, 0 }).Should().BeFalse("another version");
    }

    [Test]
    public void Decode_UnknownFlags_ThrowsInvalidData()
    {
        var payload = SpoolEventCodec.Encode([], null);
        payload[1] = 2;

        FluentActions.Invoking(() => SpoolEventCodec.Decode(payload)).Should().Throw<InvalidDataException>();
    }

    [Test]
    public void Decode_AuditRecordListingATypeTwice_ThrowsInvalidData()
    {
        var audit = new AuditRecord
        {
            Id = Guid.CreateVersion7(),
            Time = TestEvents.ReceivedAt,
            ClientId = "c",
            SiteId = "s",
            EventCount = 2,
            EventTypes = new Dictionary<string, int> { ["aa"] = 1, ["ab"] = 1 },
        };
        var payload = SpoolEventCodec.Encode([], audit);

        // The second type's last byte: "ab" becomes "aa".
        var second = payload.AsSpan().LastIndexOf("ab"u8);
        payload[second + 1] = (byte)'a';

        FluentActions.Invoking(() => SpoolEventCodec.Decode(payload)).Should().Throw<InvalidDataException>().WithMessage("*twice*");
    }

    [Test]
    public void Decode_StringLongerThanThePayload_ThrowsInvalidData()
    {
        // Version, no flags, one event, its id, then an event id announced as 15 bytes of which one follows.
        var payload = new byte[] { SpoolEventCodec.Version, 0, 1 }.Concat(new byte[16]).Concat(new byte[] { 16, (byte)'a' }).ToArray();

        FluentActions.Invoking(() => SpoolEventCodec.Decode(payload)).Should().Throw<InvalidDataException>().WithMessage("*shorter than a string*");
    }

    [Test]
    public void Decode_InvalidUtf8_ThrowsInvalidData()
    {
        var payload = SpoolEventCodec.Encode([TestEvents.Create(eventId: "evt-utf8")], null);
        payload[payload.AsSpan().IndexOf("evt-utf8"u8)] = 0xFF;

        FluentActions.Invoking(() => SpoolEventCodec.Decode(payload)).Should().Throw<InvalidDataException>();
    }

    [Test]
    public void Decode_CountOfMoreEventsThanBytes_ThrowsInvalidDataWithoutAllocatingThem()
    {
        var payload = new byte[] { SpoolEventCodec.Version, 0, 0xFF, 0xFF, 0xFF, 0xFF, 0x07 };

        FluentActions.Invoking(() => SpoolEventCodec.Decode(payload)).Should().Throw<InvalidDataException>();
    }

    [Test]
    public void Encode_NullArguments_Throw()
    {
        FluentActions.Invoking(() => SpoolEventCodec.Write(null!, [], null)).Should().Throw<ArgumentNullException>();
        FluentActions.Invoking(() => SpoolEventCodec.Write(new System.Buffers.ArrayBufferWriter<byte>(), null!, null)).Should().Throw<ArgumentNullException>();
    }

    private static CollectedEvent With(CollectedEvent e, int requestIndex, string? bucket) =>
        new()
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
            PageData = e.PageData,
            EventData = e.EventData,
            CustomData = e.CustomData,
            Consent = e.Consent,
            Ip = e.Ip,
            UserAgent = e.UserAgent,
            RequestIndex = requestIndex,
            DedicatedBucket = bucket,
        };

    private static void AssertEqual(IReadOnlyList<CollectedEvent> actual, List<CollectedEvent> expected)
    {
        actual.Should().HaveCount(expected.Count);
        for (var i = 0; i < expected.Count; i++)
        {
            actual[i].Should().BeEquivalentTo(expected[i], o => o.ComparingByValue<RawJson>());
            actual[i].RequestIndex.Should().Be(expected[i].RequestIndex);
            actual[i].DedicatedBucket.Should().Be(expected[i].DedicatedBucket);
            actual[i].Timestamp.Ticks.Should().Be(expected[i].Timestamp.Ticks);
            actual[i].ReceivedAt.Ticks.Should().Be(expected[i].ReceivedAt.Ticks);
        }
    }
}
