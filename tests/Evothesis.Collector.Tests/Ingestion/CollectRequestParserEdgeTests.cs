using System.Text;
using Evothesis.Collector.Ingestion;
using Evothesis.Collector.Ingestion.Internal;

namespace Evothesis.Collector.Tests.Ingestion;

/// <summary>
/// The parser at the edges of the contract: the site scan that runs before authorization, values nested where a
/// field is expected, the first of several problems, inherited fields, escapes and the bounds of numbers and times.
/// </summary>
public class CollectRequestParserEdgeTests
{
    private static readonly RequestLimitsOptions Limits = new();

    // --- The site scan: only the top level names the site, whatever is nested below it.

    [TestCase("\uFEFF{\"siteId\":\"a.example\"}", "a.example")]
    [TestCase("{\"eventType\":\"x\",\"site_id\":\"b.example\"}", "b.example")]
    [TestCase("{\"siteId\":{\"siteId\":\"evil.example\"},\"x\":1}", null)]
    [TestCase("{\"x\":{\"siteId\":\"evil.example\"}}", null)]
    [TestCase("{\"eventType\":{\"siteId\":\"evil.example\"}}", null)]
    [TestCase("{\"siteId\":42}", null)]
    public void TryScanSite_FindsOnlyTheTopLevelSiteId(string body, string? expected)
    {
        Scan(body, Limits, out var siteId, out _).Should().BeTrue();

        siteId.Should().Be(expected);
    }

    [Test]
    public void TryScanSite_SiteIdUpToTheStringLimit_IsFound()
    {
        var limits = new RequestLimitsOptions { MaxStringLength = 16 };

        Scan("""{"siteId":"abcdefgh.example"}""", limits, out var longest, out _).Should().BeTrue();
        Scan("""{"siteId":"abcdefghi.example"}""", limits, out var tooLong, out _).Should().BeTrue();

        longest.Should().Be("abcdefgh.example");
        tooLong.Should().BeNull();
    }

    [TestCase("""{"eventType":"BATCH","events":[{},{},{}]}""", 3)]
    [TestCase("""{"events":[{},{}],"eventType":"batch"}""", 2)]
    [TestCase("""{"eventType":"batch","events":[]}""", 0)]
    [TestCase("""{"eventType":"click","events":[1,2,3]}""", 1)]
    [TestCase("""{"events":[1,2,3]}""", 1)]
    [TestCase("""{"eventType":"batch!","events":[1,2,3]}""", 1)]
    [TestCase("""{"eventType":12345,"events":[1,2,3]}""", 1)]
    [TestCase("""{"eventType":{"eventType":"batch"},"events":[1,2]}""", 1)]
    [TestCase("""{"eventType":"batch","events":{"events":[1,2,3]}}""", 1)]
    [TestCase("""{"eventType":"batch","events":[[1,2],{"a":[3]}]}""", 2)]
    public void TryScanSite_CountsTheMembersOfABatchOnly(string body, int expected)
    {
        Scan(body, Limits, out _, out var members).Should().BeTrue();

        members.Should().Be(expected);
    }

    [Test]
    public void TryScanSite_MembersBeyondTheBatchLimit_AreCountedUpToIt()
    {
        Scan("""{"eventType":"batch","events":[1,2,3,4]}""", new RequestLimitsOptions { MaxEventsPerBatch = 2 }, out _, out var members);

        members.Should().Be(2);
    }

    [TestCase("[1]")]
    [TestCase("\"x\"")]
    [TestCase("""{"siteId":"a.example",""")]
    public void TryScanSite_NotOneJsonObject_ReturnsFalseAndNothing(string body)
    {
        Scan(body, Limits, out var siteId, out var members).Should().BeFalse();

        siteId.Should().BeNull();
        members.Should().Be(1);
    }

    [Test]
    public void TryScanSite_NestedAsDeepAsTheParserAllows_FindsTheSite()
    {
        var limits = new RequestLimitsOptions { MaxJsonDepth = 3 };
        const string Body = """{"eventType":"x","siteId":"a.example","event_data":{"b":{"c":1}}}""";

        Scan(Body, limits, out var siteId, out _).Should().BeTrue();

        siteId.Should().Be("a.example");
        Parse(Body, limits).Events.Should().ContainSingle("the parser accepts this depth too");
    }

    // --- Values nested where a field is expected are skipped whole: what they hold is never read as the event's fields.

    [Test]
    public void Parse_MemberEventTypeIsAnObject_IsRejectedAndItsContentIsNotTheEvent()
    {
        var parsed = Parse("""{"eventType":"batch","events":[{"eventType":{"eventType":"click","eventId":"inner"}},{"eventType":"ok"}]}""");

        parsed.Rejected.Should().Equal(new Rejection(0, RejectionReasons.InvalidEventType));
        parsed.Events.Should().ContainSingle().Which.EventType.Should().Be("ok");
    }

    [Test]
    public void Parse_SingleEventSiteIdIsAnObject_IsAnInvalidEventNotMalformedJson()
    {
        var act = () => Parse("""{"eventType":"click","siteId":{"x":1},"y":2}""");

        var problem = act.Should().Throw<CollectorProblemException>().Which;
        problem.Type.Should().Be(ProblemTypes.InvalidEvent);
        problem.Detail().Should().Contain("site");
    }

    [Test]
    public void Parse_BatchMemberThatIsAnArray_IsRejectedWithoutItsItemsBecomingMembers()
    {
        var parsed = Parse("""{"eventType":"batch","events":[[{"eventType":"smuggled"}],{"eventType":"a"}]}""");

        parsed.MemberCount.Should().Be(2);
        parsed.Rejected.Should().Equal(new Rejection(0, RejectionReasons.NotAnObject));
        parsed.Events.Should().ContainSingle().Which.Should().Match<ParsedEvent>(e => e.EventType == "a" && e.Index == 1);
    }

    [Test]
    public void Parse_SingleEventWithAnEventsFieldLongerThanABatch_KeepsItWholeAsAField()
    {
        var limits = new RequestLimitsOptions { MaxEventsPerBatch = 2 };

        var parsed = Parse("""{"eventType":"click","events":[{"a":1},{"b":2},{"eventType":"evil","c":[3]}],"after":true}""", limits);

        var e = parsed.Events.Should().ContainSingle().Subject;
        e.EventType.Should().Be("click");
        e.CustomData.ToString().Should().Be("""{"after":true,"events":[{"a":1},{"b":2},{"eventType":"evil","c":[3]}]}""");
    }

    [Test]
    public void Parse_MemberWithAnEventsField_KeepsItAsAField()
    {
        var parsed = Parse("""{"eventType":"batch","events":[{"eventType":"a","events":[1,2]}]}""");

        parsed.Events.Should().ContainSingle().Which.CustomData.ToString().Should().Be("""{"events":[1,2]}""");
    }

    [Test]
    public void Parse_SingleEventWithFieldsAndAnEventsField_KeepsBoth()
    {
        var e = Parse("""{"eventType":"x","foo":1,"events":[1],"bar":"b"}""").Events.Single();

        e.CustomData.ToString().Should().Be("""{"foo":1,"bar":"b","events":[1]}""");
    }

    // --- The first problem of a member names its rejection.

    [Test]
    public void Parse_MemberWithSeveralInvalidFields_IsRejectedForTheFirst()
    {
        var parsed = Parse("""
            {"eventType":"batch","events":[
              {"eventType":"a","sessionId":{},"eventId":{}},
              {"eventType":"a","eventId":{},"sessionId":{}},
              {"eventType":"a","eventId":{},"siteId":1},
              {"eventType":"a","eventId":{},"pageData":1},
              {"eventType":"a","eventId":{},"eventData":1},
              {"eventType":"a","event_data":{"s":"\u0000","n":1e999}},
              {"eventType":"a","event_data":{"n":1e999,"s":"\u0000"}},
              {"eventType":"ok"}]}
            """);

        parsed.Rejected.Should().Equal(
            new Rejection(0, RejectionReasons.InvalidSessionId),
            new Rejection(1, RejectionReasons.InvalidEventId),
            new Rejection(2, RejectionReasons.InvalidEventId),
            new Rejection(3, RejectionReasons.InvalidEventId),
            new Rejection(4, RejectionReasons.InvalidEventId),
            new Rejection(5, RejectionReasons.InvalidCharacter),
            new Rejection(6, RejectionReasons.InvalidNumber));
    }

    [TestCase("eventId")]
    [TestCase("sessionId")]
    public void Parse_IdentifierThatIsAnObject_IsSkippedWholeAndRejectsOnlyItsMember(string field)
    {
        // Were the object not skipped, its fields would be read as the member's, and the rest of the batch misread.
        var parsed = Parse($$"""{"eventType":"batch","events":[{"eventType":"a","{{field}}":{"eventType":"smuggled","x":[1]},"y":2},{"eventType":"b"}]}""");

        parsed.Rejected.Should().ContainSingle().Which.Index.Should().Be(0);
        parsed.Events.Should().ContainSingle().Which.EventType.Should().Be("b");
    }

    [Test]
    public void Parse_InvalidBatchEnvelope_RefusesTheRequest()
    {
        var act = () => Parse("""{"eventType":"batch","sessionId":{"a":1},"events":[{"eventType":"a"}]}""");

        var problem = act.Should().Throw<CollectorProblemException>().Which;
        problem.Status.Should().Be(400);
        problem.Type.Should().Be(ProblemTypes.InvalidEvent);
        problem.Detail().Should().Contain("envelope");
    }

    [Test]
    public void Parse_SingleEventWithAnUnstorableNumber_SaysItIsTheNumber()
    {
        var act = () => Parse("""{"eventType":"x","event_data":{"n":1e999}}""");

        act.Should().Throw<CollectorProblemException>().Which.Detail().Should().Contain("number");
    }

    // --- Site ids of a batch's members.

    [Test]
    public void Parse_MembersNamingTwoSitesEvenIfLaterOnesAgreeAgain_NameNoCommonSite()
    {
        var parsed = Parse("""{"eventType":"batch","events":[{"eventType":"x","siteId":"a.com"},{"eventType":"y","siteId":"b.com"},{"eventType":"z","siteId":"a.com"}]}""");

        parsed.SiteId.Should().BeNull();
    }

    [Test]
    public void Parse_SingleEvent_TellsWhetherItNamedItsSite()
    {
        Parse("""{"eventType":"x","siteId":"a.com"}""").Events.Single().HasOwnSiteId.Should().BeTrue();
        Parse("""{"eventType":"x"}""").Events.Single().HasOwnSiteId.Should().BeFalse();
    }

    // --- Identifiers, objects and inherited fields.

    [Test]
    public void Parse_IdentifierFields_AcceptNullNumbersUpToTheLimitAndRefuseObjects()
    {
        var limits = new RequestLimitsOptions { MaxIdentifierLength = 8 };

        var parsed = Parse("""
            {"eventType":"batch","events":[
              {"eventType":"a","eventId":null},
              {"eventType":"a","eventId":12345678},
              {"eventType":"a","eventId":123456789},
              {"eventType":"a","eventId":{}},
              {"eventType":"a","sessionId":[1]}]}
            """, limits);

        parsed.Events.Select(e => e.EventId).Should().Equal(null, "12345678");
        parsed.Rejected.Should().Equal(
            new Rejection(2, RejectionReasons.InvalidEventId),
            new Rejection(3, RejectionReasons.InvalidEventId),
            new Rejection(4, RejectionReasons.InvalidSessionId));
    }

    [Test]
    public void Parse_NullPageData_IsNoPageData()
    {
        var e = Parse("""{"eventType":"x","pageData":null,"eventData":null}""").Events.Single();

        e.PageData.IsNull.Should().BeTrue();
        e.EventData.IsNull.Should().BeTrue();
    }

    [Test]
    public void Parse_MemberWithNullConsent_InheritsTheEnvelopes()
    {
        var parsed = Parse("""{"eventType":"batch","consent":{"analytics":"granted"},"events":[{"eventType":"a","consent":null},{"eventType":"b","consent":"denied"}]}""");

        parsed.Events.Select(e => e.Consent.ToString()).Should().Equal("""{"analytics":"granted"}""", "\"denied\"");
    }

    [Test]
    public void Parse_MemberFieldsWithoutEnvelopeFields_AreKept()
    {
        var parsed = Parse("""{"eventType":"batch","events":[{"eventType":"a","plan":"pro"}]}""");

        parsed.Events.Single().CustomData.ToString().Should().Be("""{"plan":"pro"}""");
    }

    [Test]
    public void Parse_MemberWithoutFieldsOfItsOwn_GetsTheEnvelopes()
    {
        var parsed = Parse("""{"eventType":"batch","plan":"pro","events":[{"eventType":"x"},{"eventType":"y","own":1}]}""");

        parsed.Events.Select(e => e.CustomData.ToString()).Should().Equal("""{"plan":"pro"}""", """{"own":1,"plan":"pro"}""");
    }

    [Test]
    public void Parse_MemberWithFewerFieldsThanTheEnvelope_GetsAllOfThem()
    {
        var parsed = Parse("""{"eventType":"batch","a":1,"b":2,"c":3,"events":[{"eventType":"x","own":0}]}""");

        parsed.Events.Single().CustomData.ToString().Should().Be("""{"own":0,"a":1,"b":2,"c":3}""");
    }

    [Test]
    public void Parse_MemberFieldNamedLikeAnEscapedEnvelopeField_OverridesIt()
    {
        var parsed = Parse("""{"eventType":"batch","a\u0062":1,"events":[{"eventType":"x","ab":2}]}""");

        parsed.Events.Single().CustomData.ToString().Should().Be("""{"ab":2}""");
    }

    [Test]
    public void Parse_InheritedSessionIds_CountTowardsTheExpansionLimit()
    {
        // 300 members of 17 bytes, each inheriting a 256-character session id: 77 KB from a body of 6 KB.
        var limits = new RequestLimitsOptions { MaxPayloadExpansion = 1 };
        var members = string.Join(",", Enumerable.Repeat("""{"eventType":"a"}""", 300));
        var body = $$"""{"eventType":"batch","sessionId":"{{new string('s', 256)}}","events":[{{members}}]}""";

        var act = () => Parse(body, limits);

        act.Should().Throw<CollectorProblemException>().Which.Type.Should().Be(ProblemTypes.PayloadExpansionTooLarge);
        Parse(body, new RequestLimitsOptions { MaxPayloadExpansion = 16 }).Events.Should().HaveCount(300);
    }

    [Test]
    public void Parse_BatchExpandingToExactlyTheLimit_IsAcceptedAndOneInheritedByteMoreIsRefused()
    {
        // With MaxPayloadExpansion 1, the members may carry the body's length plus 64 KiB once the envelope's fields
        // are copied into them. Per member, as counted: an "a" carries the envelope's page_data (P bytes), its own
        // event_data {"v":1} (7), consent "denied" (8), session id "own" (3) and field "k":1 (5, plus 1 for its
        // comma): P + 24. A "b" carries its own page_data {"u":2} (7), the envelope's consent "granted" (9) and
        // session id "env-session" (11): 27.
        const int Pairs = 50;
        var limits = new RequestLimitsOptions { MaxPayloadExpansion = 1 };
        var members = string.Join(",", Enumerable.Repeat(
            """{"eventType":"a","sessionId":"own","event_data":{"v":1},"consent":"denied","k":1},{"eventType":"b","page_data":{"u":2}}""", Pairs));
        string Body(int pageDataLength, int spaces) =>
            $$"""{{{new string(' ', spaces)}}"eventType":"batch","sessionId":"env-session","consent":"granted","page_data":{"t":"{{new string('x', pageDataLength - 8)}}"},"events":[{{members}}]}""";

        // total = Pairs * (P + 24 + 27) must equal body + 65536, where body = rest + P + spaces.
        var rest = Body(8, 0).Length - 8;
        var pageData = (int)Math.Ceiling((RequestLimitsOptions.PayloadExpansionAllowance + rest - (Pairs * 51.0)) / (Pairs - 1));
        var spaces = (Pairs * (pageData + 51)) - RequestLimitsOptions.PayloadExpansionAllowance - rest - pageData;
        spaces.Should().BeInRange(0, Pairs - 2);

        Parse(Body(pageData, spaces), limits).Events.Should().HaveCount(2 * Pairs, "the members carry exactly the limit");
        var act = () => Parse(Body(pageData + 1, spaces), limits);
        act.Should().Throw<CollectorProblemException>("one more byte of page_data is copied into 50 members")
            .Which.Type.Should().Be(ProblemTypes.PayloadExpansionTooLarge);
    }

    // --- Numbers and times at their bounds.

    [Test]
    public void Parse_NumberOfExactly256Characters_IsKept()
    {
        var number = "0." + new string('1', 254);

        var parsed = Parse($$$"""{"eventType":"batch","events":[{"eventType":"a","event_data":{"n":{{{number}}}}}]}""");

        parsed.Rejected.Should().BeEmpty();
    }

    [TestCase("-62135596800000", null)]
    [TestCase("-62135596799999", "0001-01-01T00:00:00.0010000+00:00")]
    [TestCase("253402300798999", "9999-12-31T23:59:58.9990000+00:00")]
    [TestCase("253402300799000", null)]
    public void Parse_NumericTimestampAtTheEdgesOfTheCalendar_IsATimeOnlyWithinIt(string milliseconds, string? expected)
    {
        var e = Parse($$"""{"eventType":"x","timestamp":{{milliseconds}}}""").Events.Single();

        e.Timestamp?.ToString("O", System.Globalization.CultureInfo.InvariantCulture).Should().Be(expected);
        if (expected is null)
        {
            e.Timestamp.Should().BeNull();
            e.ClientTimestamp.Should().BeNull();
        }
    }

    // --- Escapes: NUL and unpaired surrogates cannot be stored; everything else can.

    [TestCase(@"line\nbreak\t\""quoted\"" \\ \/")]
    [TestCase(@"\uD83D\uDE00")]
    [TestCase(@"\ud83d\ude00 after")]
    [TestCase(@"\uDBFF\uDFFF")]
    [TestCase(@"\udbff\udfff")]
    [TestCase(@"\uD800\uDC00")]
    [TestCase(@"\uda00\udc00")]
    [TestCase(@"\ud939\udc00")]
    [TestCase(@"\uD7FF\uE000\u0009\u00e9\u00E9")]
    public void Parse_EscapedStringWithoutNulOrUnpairedSurrogates_IsKept(string escaped)
    {
        var parsed = Parse($$$"""{"eventType":"batch","events":[{"eventType":"a","event_data":{"s":"{{{escaped}}}"}}]}""");

        parsed.Rejected.Should().BeEmpty();
    }

    [TestCase(@"\u0000")]
    [TestCase(@"\uDFFF")]
    [TestCase(@"\uDC00")]
    [TestCase(@"\udfff")]
    [TestCase(@"\uD83D\uDE00\u0000")]
    [TestCase(@"\uDBFF\uDBFF")]
    [TestCase(@"\uD800x")]
    [TestCase(@"\uD800")]
    public void Parse_EscapedStringWithNulOrAnUnpairedSurrogate_RejectsTheMember(string escaped)
    {
        var parsed = Parse($$$"""{"eventType":"batch","events":[{"eventType":"a","event_data":{"s":"{{{escaped}}}"}},{"eventType":"ok"}]}""");

        parsed.Rejected.Should().Equal(new Rejection(0, RejectionReasons.InvalidCharacter));
    }

    [Test]
    public void Parse_InvalidUtf8BesideAnEscape_IsRefused()
    {
        var body = Encoding.UTF8.GetBytes("""{"eventType":"batch","events":[{"eventType":"a","event_data":{"s":"a\n#"}}]}""");
        body[Array.IndexOf(body, (byte)'#')] = 0xFF;

        var act = () => CollectRequestParser.Parse(body, body.Length, Limits);

        act.Should().Throw<CollectorProblemException>();
    }

    private static bool Scan(string body, RequestLimitsOptions limits, out string? siteId, out int members)
    {
        var bytes = Encoding.UTF8.GetBytes(body);
        return CollectRequestParser.TryScanSite(bytes, bytes.Length, limits, out siteId, out members);
    }

    private static ParsedRequest Parse(string json, RequestLimitsOptions? limits = null)
    {
        var body = Encoding.UTF8.GetBytes(json);
        return CollectRequestParser.Parse(body, body.Length, limits ?? Limits);
    }
}
