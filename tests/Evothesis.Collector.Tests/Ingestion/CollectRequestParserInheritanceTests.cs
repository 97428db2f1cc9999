using System.Text;
using Evothesis.Collector.Ingestion;
using Evothesis.Collector.Ingestion.Internal;

namespace Evothesis.Collector.Tests.Ingestion;

/// <summary>What a batch's events take from its envelope, and how a numeric timestamp is read.</summary>
public sealed class CollectRequestParserInheritanceTests
{
    [Test]
    public void Parse_BatchEnvelopeTimestampAndSession_AreInheritedOnlyByEventsWithoutTheirOwn()
    {
        var parsed = Parse("""
            {"eventType":"batch","siteId":"localhost","sessionId":"s-envelope","timestamp":"2026-11-26T10:00:00Z","events":[
              {"eventType":"a"},
              {"eventType":"b","sessionId":"s-own","timestamp":"2026-11-26T11:00:00Z"}]}
            """);

        parsed.Events.Select(e => (e.EventType, e.SessionId, e.ClientTimestamp, e.Timestamp)).Should().Equal(
            ("a", "s-envelope", "2026-11-26T10:00:00Z", new DateTimeOffset(2026, 11, 26, 10, 0, 0, TimeSpan.Zero)),
            ("b", "s-own", "2026-11-26T11:00:00Z", new DateTimeOffset(2026, 11, 26, 11, 0, 0, TimeSpan.Zero)));
    }

    [TestCase("1764151200", "2025-11-26T10:00:00Z")]
    [TestCase("99999999999", "5138-11-16T09:46:39Z")]
    [TestCase("100000000000", "1973-03-03T09:46:40Z")]
    [TestCase("1764151200000", "2025-11-26T10:00:00Z")]
    public void Parse_NumericTimestamp_IsSecondsBelow1e11AndMillisecondsFromThere(string timestamp, string expected)
    {
        var parsed = Parse($$"""{"eventType":"x","siteId":"localhost","timestamp":{{timestamp}}}""");

        parsed.Events.Should().ContainSingle().Which.Timestamp.Should().Be(DateTimeOffset.Parse(expected, System.Globalization.CultureInfo.InvariantCulture));
    }

    [Test]
    public void Parse_SiteIdThatIsNoString_RejectsTheEventWithItsReason()
    {
        var parsed = Parse("""{"eventType":"batch","siteId":"localhost","events":[{"eventType":"a","siteId":42},{"eventType":"b"}]}""");

        parsed.Events.Select(e => e.EventType).Should().Equal("b");
        parsed.Rejected.Should().ContainSingle().Which.Reason.Should().Be("invalid_site_id");
    }

    private static ParsedRequest Parse(string json)
    {
        var body = Encoding.UTF8.GetBytes(json);
        return CollectRequestParser.Parse(body, body.Length, new RequestLimitsOptions());
    }
}
