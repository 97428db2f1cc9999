using System.Text;
using System.Text.Json;
using Evothesis.Collector.Ingestion;
using Evothesis.Collector.Ingestion.Internal;

namespace Evothesis.Collector.Tests.Ingestion;

public class CollectRequestParserTests
{
    private static readonly RequestLimitsOptions Limits = new();

    [Test]
    public void Parse_SingleEventCamelCase_ReadsEveryField()
    {
        var parsed = Parse("""
            {"eventType":"pageview","eventId":"e1","sessionId":"s1","siteId":"shop.acme.com",
             "timestamp":"2026-11-26T11:59:58Z","pageData":{"url":"https://shop.acme.com/p?q=1","title":"Catalog"},
             "eventData":{"value":1},"consent":"granted"}
            """);

        parsed.IsBatch.Should().BeFalse();
        parsed.MemberCount.Should().Be(1);
        parsed.SiteId.Should().Be("shop.acme.com");
        var e = parsed.Events.Should().ContainSingle().Subject;
        e.EventType.Should().Be("pageview");
        e.EventId.Should().Be("e1");
        e.SessionId.Should().Be("s1");
        e.ClientTimestamp.Should().Be("2026-11-26T11:59:58Z");
        e.Timestamp.Should().Be(new DateTimeOffset(2026, 11, 26, 11, 59, 58, TimeSpan.Zero));
        e.PageData.ToString().Should().Be("""{"url":"https://shop.acme.com/p?q=1","title":"Catalog"}""");
        e.EventData.ToString().Should().Be("""{"value":1}""");
        e.Consent.ToString().Should().Be("\"granted\"");
        e.CustomData.IsNull.Should().BeTrue();
    }

    [Test]
    public void Parse_SingleEventSnakeCase_ReadsEveryField()
    {
        var parsed = Parse("""
            {"event_type":"purchase","event_id":"e2","session_id":"s2","site_id":"shop.acme.com",
             "page_data":{"url":"https://shop.acme.com/"},"event_data":{"order_id":"ORD-1","value":299.99}}
            """);

        var e = parsed.Events.Should().ContainSingle().Subject;
        e.EventType.Should().Be("purchase");
        e.EventId.Should().Be("e2");
        e.SessionId.Should().Be("s2");
        e.SiteId.Should().Be("shop.acme.com");
        e.PageData.ToString().Should().Be("""{"url":"https://shop.acme.com/"}""");
        e.EventData.ToString().Should().Be("""{"order_id":"ORD-1","value":299.99}""");
    }

    [Test]
    public void Parse_DesignBatch_MembersInheritEnvelopeFields()
    {
        var parsed = Parse("""
            {"eventType":"batch","sessionId":"s1","siteId":"shop.acme.com","sentAt":"2026-11-26T12:00:00Z",
             "timestamp":"2026-11-26T11:59:00Z",
             "events":[{"eventType":"pageview","eventId":"e1","timestamp":"2026-11-26T11:59:58Z",
                        "page_data":{"url":"https://shop.acme.com/p?q=1","title":"Catalog","referrer":"https://google.com/"}},
                       {"eventType":"purchase","event_data":{"order_id":"ORD-1","value":299.99,"currency":"USD"}}]}
            """);

        parsed.IsBatch.Should().BeTrue();
        parsed.MemberCount.Should().Be(2);
        parsed.SentAt.Should().Be(new DateTimeOffset(2026, 11, 26, 12, 0, 0, TimeSpan.Zero));
        parsed.Events.Should().HaveCount(2);
        parsed.Events.Should().AllSatisfy(e =>
        {
            e.SessionId.Should().Be("s1");
            e.SiteId.Should().Be("shop.acme.com");
            e.HasOwnSiteId.Should().BeFalse();
        });
        parsed.Events[0].Timestamp.Should().Be(new DateTimeOffset(2026, 11, 26, 11, 59, 58, TimeSpan.Zero));
        parsed.Events[1].Timestamp.Should().Be(new DateTimeOffset(2026, 11, 26, 11, 59, 0, TimeSpan.Zero), "it inherits the envelope's");
        parsed.Events[1].EventData.ToString().Should().Be("""{"order_id":"ORD-1","value":299.99,"currency":"USD"}""");
    }

    [Test]
    public void Parse_MemberOwnFields_WinOverEnvelope()
    {
        var parsed = Parse("""
            {"eventType":"batch","sessionId":"s1","siteId":"a.com","visitorId":"v1","url":"u",
             "events":[{"eventType":"click","sessionId":"s2","siteId":"b.com","url":"own"}]}
            """);

        var e = parsed.Events.Single();
        e.SessionId.Should().Be("s2");
        e.SiteId.Should().Be("b.com");
        e.HasOwnSiteId.Should().BeTrue();
        JsonDocument.Parse(e.CustomData.Utf8).RootElement.GetRawText().Should().Be("""{"url":"own","visitorId":"v1"}""");
        parsed.SiteId.Should().Be("a.com");
    }

    [Test]
    public void Parse_UnknownTopLevelFields_AreKeptAsCustomData()
    {
        var parsed = Parse("""{"eventType":"pageview","siteId":"localhost","visitorId":"test_visitor","url":"http://localhost/test","n":[1,{"a":2}]}""");

        parsed.Events.Single().CustomData.ToString()
            .Should().Be("""{"visitorId":"test_visitor","url":"http://localhost/test","n":[1,{"a":2}]}""");
    }

    [Test]
    public void Parse_BatchWithBadMembers_KeepsGoodOnesAndRejectsOthersWithReasons()
    {
        var parsed = Parse("""
            {"eventType":"batch","siteId":"localhost","events":[
              {"eventType":"ok"},
              42,
              {"event_data":{}},
              {"eventType":7},
              {"eventType":"x","page_data":"not an object"},
              {"eventType":"batch","events":[]},
              {"eventType":"x","event_data":{"v":"nul\u0000"}},
              {"eventType":"ok2"}]}
            """);

        parsed.Events.Select(e => e.EventType).Should().Equal("ok", "ok2");
        parsed.Events.Select(e => e.Index).Should().Equal(0, 7);
        parsed.Rejected.Should().Equal(
            new Rejection(1, "not_an_object"),
            new Rejection(2, "missing_event_type"),
            new Rejection(3, "invalid_event_type"),
            new Rejection(4, "invalid_page_data"),
            new Rejection(5, "nested_batch"),
            new Rejection(6, "invalid_character"));
    }

    [Test]
    public void Parse_BatchWithOnlyBadMembers_IsRefusedListingEveryMember()
    {
        var act = () => Parse("""{"eventType":"batch","siteId":"localhost","events":[{"x":1},"y"]}""");

        var problem = act.Should().Throw<CollectorProblemException>().Which;
        problem.Status.Should().Be(400);
        problem.Type.Should().Be(ProblemTypes.InvalidEvent);
        problem.Rejected.Should().Equal(new Rejection(0, "missing_event_type"), new Rejection(1, "not_an_object"));
    }

    [Test]
    public void Parse_EmptyBatch_HasNoEvents()
    {
        var parsed = Parse("""{"eventType":"batch","siteId":"localhost","events":[]}""");

        parsed.Events.Should().BeEmpty();
        parsed.Rejected.Should().BeEmpty();
    }

    [TestCase("""{"eventType":"batch","siteId":"localhost"}""", TestName = "Parse_BatchWithoutEvents_IsRefused")]
    [TestCase("""{"eventType":"batch","siteId":"localhost","events":{}}""", TestName = "Parse_BatchWithNonArrayEvents_IsRefused")]
    public void Parse_BatchWithoutEventsArray_IsRefused(string body)
    {
        var act = () => Parse(body);

        act.Should().Throw<CollectorProblemException>().Which.Detail().Should().Contain("'events' array");
    }

    [TestCase("""{"siteId":"localhost"}""")]
    [TestCase("""{"eventType":"","siteId":"localhost"}""")]
    [TestCase("""{"eventType":null,"siteId":"localhost"}""")]
    public void Parse_SingleEventWithoutEventType_IsRefusedWith400(string body)
    {
        var problem = FluentActions.Invoking(() => Parse(body)).Should().Throw<CollectorProblemException>().Which;

        problem.Status.Should().Be(400);
        problem.Type.Should().Be(ProblemTypes.InvalidEvent);
        problem.Detail().Should().Contain("eventType");
    }

    [TestCase("")]
    [TestCase("   ")]
    [TestCase("{")]
    [TestCase("""{"eventType":"x",}""")]
    [TestCase("""[{"eventType":"x"}]""")]
    [TestCase("\"text\"")]
    [TestCase("""{"eventType":"x"} {"eventType":"y"}""")]
    [TestCase("""{"eventType":"x" /* comment */}""")]
    public void Parse_MalformedJson_IsRefusedWith400(string body)
    {
        var problem = FluentActions.Invoking(() => Parse(body)).Should().Throw<CollectorProblemException>().Which;

        problem.Status.Should().Be(400);
        problem.Type.Should().Be(ProblemTypes.MalformedBody);
    }

    [Test]
    public void Parse_InvalidUtf8_IsRefusedWith400()
    {
        var body = Encoding.UTF8.GetBytes("""{"eventType":"x","siteId":"localhost","v":"ab"}""");
        body[^4] = 0xC3; // a lead byte with no continuation

        var act = () => CollectRequestParser.Parse(body, body.Length, Limits);

        act.Should().Throw<CollectorProblemException>().Which.Type.Should().Be(ProblemTypes.MalformedBody);
    }

    [Test]
    public void Parse_Utf8ByteOrderMark_IsIgnored()
    {
        var body = Encoding.UTF8.GetPreamble().Concat(Encoding.UTF8.GetBytes("""{"eventType":"x","siteId":"localhost"}""")).ToArray();

        CollectRequestParser.Parse(body, body.Length, Limits).Events.Should().ContainSingle();
    }

    [Test]
    public void Parse_DepthAtLimit_IsAccepted_AndOneDeeperIsRefused()
    {
        var limits = new RequestLimitsOptions { MaxJsonDepth = 8 };

        // The root object is level 1, event_data level 2: six more levels reach exactly 8.
        var atLimit = """{"eventType":"x","event_data":""" + Nest(6) + "}";
        var tooDeep = """{"eventType":"x","event_data":""" + Nest(7) + "}";

        Parse(atLimit, limits).Events.Should().ContainSingle();
        var problem = FluentActions.Invoking(() => Parse(tooDeep, limits)).Should().Throw<CollectorProblemException>().Which;
        problem.Status.Should().Be(400);
        problem.Type.Should().Be(ProblemTypes.JsonTooDeep);
        problem.Detail().Should().Contain("8");

        static string Nest(int levels) => string.Concat(Enumerable.Repeat("{\"a\":", levels)) + "{}" + new string('}', levels);
    }

    [Test]
    public void Parse_DefaultDepthLimitIs32()
    {
        var body = """{"eventType":"x","event_data":""" + string.Concat(Enumerable.Repeat("[", 40)) + new string(']', 40) + "}";

        FluentActions.Invoking(() => Parse(body)).Should().Throw<CollectorProblemException>()
            .Which.Type.Should().Be(ProblemTypes.JsonTooDeep);
    }

    [TestCase("value")]
    [TestCase("name")]
    [TestCase("escaped")]
    public void Parse_StringOverLimit_IsRefusedWith400(string where)
    {
        var limits = new RequestLimitsOptions { MaxStringLength = 100 };
        var longText = new string('a', 101);
        var body = where switch
        {
            "value" => $$$"""{"eventType":"x","event_data":{"v":"{{{longText}}}"}}""",
            "name" => $$$"""{"eventType":"x","event_data":{"{{{longText}}}":1}}""",
            _ => $$$"""{"eventType":"x","event_data":{"v":"{{{string.Concat(Enumerable.Repeat("\\u00e9", 51))}}}"}}""",
        };

        var problem = FluentActions.Invoking(() => Parse(body, limits)).Should().Throw<CollectorProblemException>().Which;

        problem.Status.Should().Be(400);
        problem.Type.Should().Be(ProblemTypes.StringTooLong);
    }

    [Test]
    public void Parse_StringAtLimit_IsAccepted_EvenWhenEscapedFormIsLonger()
    {
        var limits = new RequestLimitsOptions { MaxStringLength = 100 };

        // 50 × "é" is 100 UTF-8 bytes, written as 300 bytes of \u escapes.
        var body = $$$"""{"eventType":"x","event_data":{"v":"{{{string.Concat(Enumerable.Repeat("\\u00e9", 50))}}}","w":"{{{new string('a', 100)}}}"}}""";

        Parse(body, limits).Events.Should().ContainSingle();
    }

    [Test]
    public void Parse_MoreEventsThanTheLimit_IsRefusedWith413()
    {
        var limits = new RequestLimitsOptions { MaxEventsPerBatch = 3 };

        Parse(Batch(3), limits).Events.Should().HaveCount(3);
        var problem = FluentActions.Invoking(() => Parse(Batch(4), limits)).Should().Throw<CollectorProblemException>().Which;
        problem.Status.Should().Be(413);
        problem.Type.Should().Be(ProblemTypes.TooManyEvents);
        problem.Detail().Should().Contain("3");

        static string Batch(int n) =>
            """{"eventType":"batch","siteId":"localhost","events":[""" + string.Join(',', Enumerable.Repeat("""{"eventType":"x"}""", n)) + "]}";
    }

    [Test]
    public void Parse_MoreEventsThanTheLimitBeforeTheEventType_IsRefusedWith413()
    {
        var limits = new RequestLimitsOptions { MaxEventsPerBatch = 3 };
        var body = """{"siteId":"localhost","events":[""" + string.Join(',', Enumerable.Repeat("""{"eventType":"x"}""", 4)) + """],"eventType":"batch"}""";

        FluentActions.Invoking(() => Parse(body, limits)).Should().Throw<CollectorProblemException>().Which.Status.Should().Be(413);
    }

    [TestCase(true)]
    [TestCase(false)]
    public void Parse_SingleEventWithALongEventsField_KeepsItAsACustomField(bool eventTypeFirst)
    {
        var limits = new RequestLimitsOptions { MaxEventsPerBatch = 3 };
        var items = string.Join(',', Enumerable.Range(0, 10).Select(i => $$"""{"n":{{i}}}"""));
        var body = eventTypeFirst
            ? $$"""{"eventType":"survey","siteId":"localhost","events":[{{items}}]}"""
            : $$"""{"siteId":"localhost","events":[{{items}}],"eventType":"survey"}""";

        var parsed = Parse(body, limits).Events.Should().ContainSingle().Subject;

        parsed.EventType.Should().Be("survey");
        var events = parsed.CustomData.ToJsonElement().GetProperty("events");
        events.GetArrayLength().Should().Be(10);
        events[9].GetProperty("n").GetInt32().Should().Be(9);
    }

    [Test]
    public void Parse_SingleEventWithAnUnstorableValuePastTheBatchLimit_IsRefused()
    {
        var limits = new RequestLimitsOptions { MaxEventsPerBatch = 3 };
        var body = """{"siteId":"localhost","events":[1,2,3,"a\u0000b"],"eventType":"survey"}""";

        FluentActions.Invoking(() => Parse(body, limits)).Should().Throw<CollectorProblemException>()
            .Which.Type.Should().Be(ProblemTypes.MalformedBody);
        Parse(body.Replace("\\u0000", "-", StringComparison.Ordinal), limits).Events.Should().ContainSingle("the same body without it is accepted");
    }

    [Test]
    public void Parse_DefaultEventLimitIs500()
    {
        var body = """{"eventType":"batch","siteId":"localhost","events":[""" + string.Join(',', Enumerable.Repeat("""{"eventType":"x"}""", 501)) + "]}";

        FluentActions.Invoking(() => Parse(body)).Should().Throw<CollectorProblemException>().Which.Status.Should().Be(413);
    }

    [TestCase("\\u0000")]
    [TestCase("\\ud800")]
    [TestCase("\\udc00")]
    [TestCase("\\ud800x")]
    public void Parse_UnstorableCharacterInSingleEvent_IsRefused(string escape)
    {
        var body = $$$"""{"eventType":"x","siteId":"localhost","event_data":{"v":"a{{{escape}}}b"}}""";

        FluentActions.Invoking(() => Parse(body)).Should().Throw<CollectorProblemException>()
            .Which.Type.Should().Be(ProblemTypes.MalformedBody);
    }

    [Test]
    public void Parse_SurrogatePairEscape_IsAccepted()
    {
        Parse("""{"eventType":"x","siteId":"localhost","event_data":{"v":"\ud83d\ude00 ok"}}""").Events.Should().ContainSingle();
    }

    [TestCase("\"2026-11-26T11:59:58Z\"", "2026-11-26T11:59:58+00:00")]
    [TestCase("\"2026-11-26T12:59:58+01:00\"", "2026-11-26T11:59:58+00:00")]
    [TestCase("\"2026-11-26T11:59:58.123\"", "2026-11-26T11:59:58.123+00:00")]
    [TestCase("\"2026-11-26T06:59:58.5-05:00\"", "2026-11-26T11:59:58.5+00:00")]
    [TestCase("\"2026-11-26T11:59:58.000z\"", "2026-11-26T11:59:58+00:00")]
    [TestCase("\"2026-11-26 11:59:58Z\"", "2026-11-26T11:59:58+00:00")]
    [TestCase("\"Thu, 26 Nov 2026 11:59:58 GMT\"", "2026-11-26T11:59:58+00:00")]
    [TestCase("1795694398000", "2026-11-26T11:59:58+00:00")]
    [TestCase("1795694398", "2026-11-26T11:59:58+00:00")]
    public void Parse_Timestamp_AcceptsIsoStringsAndEpochNumbers(string json, string expected)
    {
        var e = Parse($$$"""{"eventType":"x","timestamp":{{{json}}}}""").Events.Single();

        e.Timestamp.Should().Be(DateTimeOffset.Parse(expected, System.Globalization.CultureInfo.InvariantCulture));
        e.ClientTimestamp.Should().Be(json.Trim('"'));
    }

    [Test]
    public void Parse_BatchWithRepeatedAndManyEventTypes_GivesEachEventItsOwnType()
    {
        string[] types = ["click", "pageview", "click", "scroll", "form_submit", "purchase", "video_play", "pageview", "click", "Click"];
        var members = string.Join(",", types.Select(t => $$"""{"eventType":"{{t}}"}"""));

        var parsed = Parse($$"""{"eventType":"batch","siteId":"localhost","events":[{{members}}]}""");

        parsed.Events.Select(e => e.EventType).Should().Equal(types);
    }

    [TestCase("\"yesterday\"")]
    [TestCase("{}")]
    [TestCase("null")]
    [TestCase("1e300")]
    public void Parse_UnparsableTimestamp_LeavesNoTimestampAndKeepsNoText(string json)
    {
        var e = Parse($$$"""{"eventType":"x","timestamp":{{{json}}}}""").Events.Single();

        e.Timestamp.Should().BeNull();
        e.ClientTimestamp.Should().BeNull("text that is no time could be anything, personal data included");
    }

    [Test]
    public void Parse_RepeatedEventsMember_IsRefused()
    {
        var body = """{"eventType":"batch","siteId":"localhost","events":[{"eventType":"a"}],"events":[{"eventType":"b"}]}""";

        var problem = FluentActions.Invoking(() => Parse(body)).Should().Throw<CollectorProblemException>().Which;

        problem.Status.Should().Be(400);
        problem.Detail().Should().Contain("more than one 'events'");
    }

    [Test]
    public void Parse_SingleEventWithUnstorableValueInAnEventsField_IsRefused()
    {
        var body = """{"eventType":"x","siteId":"localhost","events":[{"a":"nul\u0000"}]}""";

        FluentActions.Invoking(() => Parse(body)).Should().Throw<CollectorProblemException>()
            .Which.Type.Should().Be(ProblemTypes.MalformedBody);
    }

    [TestCase("1e999")]
    [TestCase("-1e400")]
    [TestCase("1e-401")]
    [TestCase("1e-1001")]
    [TestCase("1E-20000")]
    [TestCase("0e-20000")]
    [TestCase("0.5e+00000000401")]
    public void Parse_NumberNoStoreCanHold_RejectsTheMember(string number)
    {
        var parsed = Parse($$$"""{"eventType":"batch","siteId":"localhost","events":[{"eventType":"a","event_data":{"n":{{{number}}}}},{"eventType":"b","event_data":{"n":1e300}}]}""");

        parsed.Rejected.Should().Equal(new Rejection(0, "invalid_number"));
        parsed.Events.Should().ContainSingle().Which.EventType.Should().Be("b");
    }

    // A double's range, and PostgreSQL's text of the value stays within a few hundred characters.
    [TestCase("1E-400")]
    [TestCase("0e-400")]
    [TestCase("-4.9e-324")]
    [TestCase("1e+0300")]
    [TestCase("12.5e-00000000000000000003")]
    public void Parse_NumberWithAnExponentUpTo400_IsKept(string number)
    {
        var parsed = Parse($$$"""{"eventType":"batch","siteId":"localhost","events":[{"eventType":"a","event_data":{"n":{{{number}}}}}]}""");

        parsed.Rejected.Should().BeEmpty();
        parsed.Events.Should().ContainSingle();
    }

    [Test]
    public void Parse_VeryLongNumberText_RejectsTheMember()
    {
        var digits = "0." + new string('1', 300);
        var parsed = Parse($$$"""{"eventType":"batch","siteId":"localhost","events":[{"eventType":"a","event_data":{"n":{{{digits}}}}},{"eventType":"b"}]}""");

        parsed.Rejected.Should().Equal(new Rejection(0, "invalid_number"));
    }

    [Test]
    public void Parse_NumberNoStoreCanHoldInASingleEvent_IsRefused()
    {
        FluentActions.Invoking(() => Parse("""{"eventType":"x","event_data":{"n":1e999}}""")).Should().Throw<CollectorProblemException>()
            .Which.Type.Should().Be(ProblemTypes.MalformedBody);
    }

    [Test]
    public void Parse_IdentifiersOverTheLimit_RejectTheMember()
    {
        var limits = new RequestLimitsOptions { MaxIdentifierLength = 16 };
        var parsed = Parse(
            """
            {"eventType":"batch","siteId":"localhost","events":[
              {"eventType":"a","eventId":"0123456789abcdef"},
              {"eventType":"b","eventId":"0123456789abcdefg"},
              {"eventType":"c","sessionId":"0123456789abcdefg"}]}
            """,
            limits);

        parsed.Events.Select(e => e.EventType).Should().Equal("a");
        parsed.Rejected.Should().Equal(new Rejection(1, "invalid_event_id"), new Rejection(2, "invalid_session_id"));
    }

    [Test]
    public void Parse_NumericIdentifiers_AreKeptAsText()
    {
        var e = Parse("""{"eventType":"x","eventId":12345,"sessionId":7}""").Events.Single();

        e.EventId.Should().Be("12345");
        e.SessionId.Should().Be("7");
    }

    [Test]
    public void Parse_SingleEventWithEventsField_KeepsItAsCustomData()
    {
        var e = Parse("""{"eventType":"x","events":[1,2]}""").Events.Single();

        e.CustomData.ToString().Should().Be("""{"events":[1,2]}""");
    }

    [Test]
    public void Parse_BatchMembersWithDifferentSites_LeaveNoCommonSite()
    {
        var parsed = Parse("""{"eventType":"batch","events":[{"eventType":"x","siteId":"a.com"},{"eventType":"y","siteId":"b.com"}]}""");

        parsed.SiteId.Should().BeNull();
    }

    [Test]
    public void Parse_BatchMembersAgreeingOnASite_NameIt()
    {
        var parsed = Parse("""{"eventType":"batch","events":[{"eventType":"x","siteId":"a.com"},{"eventType":"y","siteId":"a.com"}]}""");

        parsed.SiteId.Should().Be("a.com");
    }

    private static ParsedRequest Parse(string json, RequestLimitsOptions? limits = null)
    {
        var body = Encoding.UTF8.GetBytes(json);
        return CollectRequestParser.Parse(body, body.Length, limits ?? Limits);
    }
}

internal static class ProblemExtensions
{
    public static string Detail(this CollectorProblemException problem) => problem.Message;
}
