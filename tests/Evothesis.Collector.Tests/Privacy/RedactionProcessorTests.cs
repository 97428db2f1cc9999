using System.Net;
using Evothesis.Collector.Authorization;
using Evothesis.Collector.Events;
using Evothesis.Collector.Ingestion;
using Evothesis.Collector.Privacy;
using Evothesis.Collector.Privacy.Internal;
using Evothesis.Collector.Tests.Support;
using Microsoft.Extensions.Options;

namespace Evothesis.Collector.Tests.Privacy;

public sealed class RedactionProcessorTests
{
    // Random UUIDs whose digit runs the text rules took for phone numbers (found by generating 400 000 of them): an
    // eventId removed for it loses its deduplication, a sessionId marked for it splits its session.
    [TestCase("67927457-9937-3930-ab13-fe9a41a52ff4")]
    [TestCase("23207494-6506-5150-2441-c384b2d4c1f9")]
    [TestCase("28919634-2600-0227-8208-ea727842b7ae")]
    public void Process_UuidWhoseDigitsLookLikePersonalData_KeepsItAsAnIdentifier(string value)
    {
        var e = TestEvents.Create(eventId: value, sessionId: value);
        var context = Context(Clients.Gdpr(), e);

        Processor().Process(context);

        e.EventId.Should().BeSameAs(value);
        e.SessionId.Should().BeSameAs(value);
        context.Redactions.Total.Should().Be(0);
    }

    [Test]
    public void Process_EmailInSessionId_ReplacesItWithTheMarker()
    {
        var e = TestEvents.Create(sessionId: "jane@example.com");
        var context = Context(Clients.Gdpr(), e);

        Processor().Process(context);

        e.SessionId.Should().Be("[redacted:email]");
        context.Redactions.Locations.Should().Equal("email:sessionId");
        context.Redactions.Count(PiiKind.Email).Should().Be(1);
    }

    [Test]
    public void Process_CardNumbersInEventIds_RemovesThemSoNoTwoEventsShareARetryKey()
    {
        var first = TestEvents.Create(eventId: "4111 1111 1111 1111");
        var second = TestEvents.Create(eventId: "5555555555554444");
        var context = Context(Clients.Gdpr(), first, second);

        Processor().Process(context);

        first.EventId.Should().BeNull("a marker would make both events look like retries of one '[redacted:card]'");
        second.EventId.Should().BeNull();
        context.Redactions.Locations.Should().Equal("card:eventId");
        context.Redactions.Count(PiiKind.Card).Should().Be(2);
    }

    [Test]
    public void Process_PhoneInEventType_ReplacesOnlyThePhone()
    {
        var e = TestEvents.Create(eventType: "callback +1 202 555 0143");
        var context = Context(Clients.Hipaa(), e);

        Processor().Process(context);

        e.EventType.Should().Be("callback [redacted:phone]");
        context.Redactions.Locations.Should().Equal("phone:eventType");
    }

    [TestCase("sess_8f2a")]
    [TestCase("e-1")]
    [TestCase("ORD-12345")]
    [TestCase("550e8400-e29b-41d4-a716-446655440000")]
    [TestCase("pageview")]
    [TestCase("1732622400000")]
    [TestCase("form_submit")]
    public void Process_LookAlikesInIdentifiers_KeepsThemAsSent(string value)
    {
        var e = TestEvents.Create(eventId: value, eventType: value, sessionId: value);
        var context = Context(Clients.Gdpr(), e);

        Processor().Process(context);

        e.EventId.Should().BeSameAs(value);
        e.EventType.Should().BeSameAs(value);
        e.SessionId.Should().BeSameAs(value);
        context.Redactions.Total.Should().Be(0);
    }

    [Test]
    public void Process_PersonalDataInEveryIdentifier_RecordsEachLocation()
    {
        var e = TestEvents.Create(eventId: "078-05-1120", eventType: "lead DE89 3704 0044 0532 0130 00", sessionId: "pat%40clinic.example");
        var context = Context(Clients.Hipaa(), e);

        Processor().Process(context);

        e.EventId.Should().BeNull();
        e.EventType.Should().Be("lead [redacted:iban]");
        e.SessionId.Should().Be("[redacted:email]");
        context.Redactions.Locations.Should().Equal("iban:eventType", "email:sessionId", "ssn:eventId");
    }

    [Test]
    public void Process_NonAsciiAndLongIdentifiers_AreRedactedWithTheirTextIntact()
    {
        var longSession = new string('x', 3000) + " jane@example.com";
        var e = TestEvents.Create(eventType: "événement jane@example.com", sessionId: longSession);
        var context = Context(Clients.Gdpr(), e);

        Processor().Process(context);

        e.EventType.Should().Be("événement [redacted:email]");
        e.SessionId.Should().Be(new string('x', 3000) + " [redacted:email]");
    }

    [Test]
    public void Process_UrlWithCredentialsInSessionId_GetsTheUrlRules()
    {
        var e = TestEvents.Create(sessionId: "https://user:pw@shop.example/s?token=abc&utm_source=x");
        var context = Context(Clients.Gdpr(), e);

        Processor().Process(context);

        e.SessionId.Should().Be("https://shop.example/s?token=[redacted:secret]&utm_source=x", "the same string in event_data gets the same treatment");
    }

    [Test]
    public void Process_FormEventWhoseTypeHoldsPersonalData_StillAppliesTheFormRule()
    {
        var e = TestEvents.Create(eventType: "form_submit jane@example.com", eventData: """{"formData":{"message":"hello"}}""");
        var context = Context(Clients.Gdpr(), e);

        Processor().Process(context);

        e.EventType.Should().Be("form_submit [redacted:email]");
        e.EventData.ToString().Should().Be("""{"formData":{"message":"[redacted:form_value]"}}""");
    }

    [Test]
    public void Process_StandardClientWithRedactionOff_KeepsIdentifiers()
    {
        var e = TestEvents.Create(eventId: "4111111111111111", eventType: "lead jane@example.com", sessionId: "jane@example.com");
        var context = Context(Clients.Standard(), e);

        Processor(redactStandardClients: false).Process(context);

        e.EventId.Should().Be("4111111111111111");
        e.EventType.Should().Be("lead jane@example.com");
        e.SessionId.Should().Be("jane@example.com");
        context.Redactions.Total.Should().Be(0);
    }

    [Test]
    public void Process_StandardClientByDefault_RedactsIdentifiers()
    {
        var e = TestEvents.Create(sessionId: "jane@example.com");
        var context = Context(Clients.Standard(), e);

        Processor().Process(context);

        e.SessionId.Should().Be("[redacted:email]");
    }

    [TestCase("form_submit")]
    [TestCase("newsletter_form_submit")]
    [TestCase("formChange")]
    public void Process_FormEvent_ReplacesFieldValuesButNotPageData(string eventType)
    {
        var e = TestEvents.Create(
            eventType: eventType,
            pageData: """{"title":"Contact us","section":"outdoor","url":"https://shop.example/c?mail=jane@example.com"}""",
            eventData: """{"message":"see you"}""",
            customData: """{"comment":"thanks"}""",
            consent: "\"jane@example.com\"");
        var context = Context(Clients.Gdpr(), e);

        Processor().Process(context);

        e.PageData.ToString().Should().Be("""{"title":"Contact us","section":"outdoor","url":"https://shop.example/c?mail=[redacted:email]"}""");
        e.EventData.ToString().Should().Be("""{"message":"[redacted:form_value]"}""");
        e.CustomData.ToString().Should().Be("""{"comment":"[redacted:form_value]"}""");
        e.Consent.ToString().Should().Be("\"[redacted:email]\"");
        context.Redactions.Locations.Should().Equal(
            "email:page_data.url", "form_value:event_data.message", "form_value:custom_data.comment", "email:consent");
    }

    [Test]
    public void Process_EventThatIsNoForm_KeepsPlainValues()
    {
        var e = TestEvents.Create(eventType: "click", eventData: """{"message":"see you"}""", customData: """{"comment":"thanks"}""");
        var context = Context(Clients.Gdpr(), e);

        Processor().Process(context);

        e.EventData.ToString().Should().Be("""{"message":"see you"}""");
        e.CustomData.ToString().Should().Be("""{"comment":"thanks"}""");
        context.Redactions.Total.Should().Be(0);
    }

    [Test]
    public void Process_GdprClientWithStandardRedactionOff_IsStillRedacted()
    {
        var e = TestEvents.Create(sessionId: "jane@example.com");
        var context = Context(Clients.Gdpr(), e);

        Processor(redactStandardClients: false).Process(context);

        e.SessionId.Should().Be("[redacted:email]");
    }

    private static RedactionProcessor Processor(bool redactStandardClients = true)
    {
        var options = new CollectorOptions();
        options.Privacy.RedactStandardClients = redactStandardClients;
        return new RedactionProcessor(new JsonRedactor(options.Privacy), Options.Create(options));
    }

    private static EventProcessingContext Context(ClientConfig client, params CollectedEvent[] events)
    {
        var request = new CollectorRequest { Body = Stream.Null, RemoteIpAddress = IPAddress.Loopback };
        return new EventProcessingContext(client, "site.example", request, [.. events], new RedactionRecorder(collectLocations: true));
    }
}
