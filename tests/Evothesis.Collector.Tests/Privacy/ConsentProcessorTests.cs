using System.Net;
using Evothesis.Collector.Authorization;
using Evothesis.Collector.Diagnostics;
using Evothesis.Collector.Events;
using Evothesis.Collector.Ingestion;
using Evothesis.Collector.Privacy;
using Evothesis.Collector.Privacy.Internal;
using Evothesis.Collector.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Logging.Testing;

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

    [Test]
    public void Process_DeniedAndUndecidedEvents_AreCountedByCause()
    {
        using var drops = DropCollector();
        var logger = new FakeLogger<ConsentProcessor>();
        var context = Context(Clients.Gdpr(consentRequired: true, consentDefault: ConsentDefault.OptOut), gpc: false, "\"denied\"", null, "false", "\"granted\"");

        Processor(logger).Process(context);

        Drops(drops).Should().BeEquivalentTo([("denied", 2L), ("no_grant", 1L)]);
        logger.Collector.GetSnapshot().Select(r => (r.Id.Id, Count: r.GetStructuredStateValue("Count"), Cause: r.GetStructuredStateValue("Cause")))
            .Should().BeEquivalentTo([(1200, "2", "denied"), (1200, "1", "no_grant")]);
    }

    [Test]
    public void Process_GlobalPrivacyControl_CountsEveryDropAsGpc()
    {
        using var drops = DropCollector();
        var context = Context(Clients.Gdpr(consentRequired: true, consentDefault: ConsentDefault.OptOut), gpc: true, "\"granted\"", "\"denied\"", null);

        Processor().Process(context);

        context.Events.Should().BeEmpty();
        context.Dropped.Should().HaveCount(3).And.OnlyContain(d => d.Reason == "consent");
        Drops(drops).Should().Equal(("gpc", 3L));
    }

    [Test]
    public void Process_NothingDropped_CountsNothing()
    {
        using var drops = DropCollector();
        var logger = new FakeLogger<ConsentProcessor>();
        var context = Context(Clients.Standard(consentRequired: true, ConsentDefault.OptOut), gpc: true, "\"granted\"", "true");

        Processor(logger).Process(context);

        context.Events.Should().HaveCount(2, "Sec-GPC binds only gdpr and hipaa clients");
        drops.GetMeasurementSnapshot().Should().BeEmpty();
        logger.Collector.Count.Should().Be(0);
    }

    private ConsentProcessor Processor(ILogger<ConsentProcessor>? logger = null) =>
        new(new PrivacyMetrics(new CollectorMetrics(_services.GetRequiredService<IMeterFactory>())), logger ?? NullLogger<ConsentProcessor>.Instance);

    private MetricCollector<long> DropCollector() =>
        new(_services.GetRequiredService<IMeterFactory>(), CollectorMetrics.MeterName, "evothesis.collector.privacy.consent_drops");

    private static IEnumerable<(string? Cause, long Count)> Drops(MetricCollector<long> collector) =>
        collector.GetMeasurementSnapshot().Select(m => ((string?)m.Tags["cause"], m.Value));

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
