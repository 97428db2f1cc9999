using System.Net;
using Evothesis.Collector.Authorization;
using Evothesis.Collector.Diagnostics;
using Evothesis.Collector.Events;
using Evothesis.Collector.Ingestion;
using Evothesis.Collector.Privacy;
using Evothesis.Collector.Privacy.Internal;
using Evothesis.Collector.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;

namespace Evothesis.Collector.Tests.Privacy;

public sealed class ConsentProcessorTests
{
    private ServiceProvider _services = null!;

    [OneTimeSetUp]
    public void CreateServices() => _services = new ServiceCollection().AddMetrics().BuildServiceProvider();

    [OneTimeTearDown]
    public void DisposeServices() => _services.Dispose();

    [TestCase(false, ConsentDefault.OptIn, null, true)]
    [TestCase(false, ConsentDefault.OptOut, null, true)]
    [TestCase(true, ConsentDefault.OptIn, null, true)]
    [TestCase(true, ConsentDefault.OptOut, null, false)]
    [TestCase(true, ConsentDefault.OptOut, "\"granted\"", true)]
    [TestCase(true, ConsentDefault.OptOut, "{\"analytics\":true}", true)]
    [TestCase(true, ConsentDefault.OptOut, "\"unknown\"", false)]
    [TestCase(true, ConsentDefault.OptIn, "\"denied\"", false)]
    [TestCase(true, ConsentDefault.OptIn, "{\"analytics\":false}", false)]
    [TestCase(false, ConsentDefault.OptIn, "false", false)]
    public void Process_ConsentRules_KeepOrDrop(bool required, ConsentDefault defaultBehavior, string? consent, bool kept)
    {
        var context = Context(Clients.Standard(required, defaultBehavior), gpc: false, consent);

        Processor().Process(context);

        context.Events.Should().HaveCount(kept ? 1 : 0);
        if (!kept)
        {
            context.Dropped.Should().ContainSingle().Which.Reason.Should().Be("consent");
        }
    }

    [Test]
    public void Process_GlobalPrivacyControlForGdprClient_DropsEvenGrantedEvents()
    {
        var context = Context(Clients.Gdpr(), gpc: true, "\"granted\"", null);

        Processor().Process(context);

        context.Events.Should().BeEmpty();
        context.Dropped.Select(d => d.Reason).Should().Equal("consent", "consent");
    }

    [Test]
    public void Process_GlobalPrivacyControlForHipaaClient_Drops()
    {
        var context = Context(Clients.Hipaa(), gpc: true, (string?)null);

        Processor().Process(context);

        context.Events.Should().BeEmpty();
    }

    [Test]
    public void Process_GlobalPrivacyControlForStandardClient_KeepsUndecidedEvents()
    {
        var context = Context(Clients.Standard(), gpc: true, (string?)null);

        Processor().Process(context);

        context.Events.Should().ContainSingle();
    }

    [Test]
    public void Process_MixedBatch_DropsOnlyTheEventsWithoutConsent()
    {
        var context = Context(Clients.Gdpr(consentRequired: true, consentDefault: ConsentDefault.OptOut), gpc: false, "\"granted\"", null, "\"denied\"", "true");

        Processor().Process(context);

        context.Events.Select(e => e.EventId).Should().Equal("e0", "e3");
        context.Dropped.Select(d => d.Event.EventId).Should().BeEquivalentTo(["e1", "e2"]);
    }

    private ConsentProcessor Processor() =>
        new(new PrivacyMetrics(new CollectorMetrics(_services.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>())), NullLogger<ConsentProcessor>.Instance);

    private static EventProcessingContext Context(ClientConfig client, bool gpc, params string?[] consents)
    {
        var now = DateTimeOffset.UtcNow;
        var events = consents.Select((c, i) => new CollectedEvent
        {
            Id = Guid.CreateVersion7(),
            EventId = "e" + i,
            EventType = "pageview",
            ClientId = client.ClientId,
            SiteId = "site.example",
            Timestamp = now,
            ReceivedAt = now,
            Consent = c is null ? RawJson.Null : RawJson.Parse(c),
            RequestIndex = i,
        }).ToList();
        var request = new CollectorRequest { Body = Stream.Null, GlobalPrivacyControl = gpc, RemoteIpAddress = IPAddress.Loopback };
        return new EventProcessingContext(client, "site.example", request, events);
    }
}
