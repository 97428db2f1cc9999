using System.Diagnostics.Metrics;
using System.Net;
using Evothesis.Collector.Authorization;
using Evothesis.Collector.Diagnostics;
using Evothesis.Collector.Ingestion;
using Evothesis.Collector.Privacy;
using Evothesis.Collector.Privacy.Internal;
using Evothesis.Collector.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Options;

namespace Evothesis.Collector.Tests.Privacy;

public sealed class PrivacyRulesTests
{
    private ServiceProvider _services = null!;

    [SetUp]
    public void SetUp() => _services = new ServiceCollection().AddMetrics().BuildServiceProvider();

    [TearDown]
    public void TearDown() => _services.Dispose();

    [Test]
    public void Completed_Redactions_AreCountedAndLoggedByRule()
    {
        using var redactions = new MetricCollector<long>(_services.GetRequiredService<IMeterFactory>(), CollectorMetrics.MeterName, "evothesis.collector.privacy.redactions");
        var logger = new FakeLogger<PrivacyRules>();
        var (rules, redaction) = Create(logger);
        var context = PrivacyRules.CreateContext(Clients.Gdpr(), "gdpr.example", Request(), [
            TestEvents.Create(sessionId: "jane@example.com", eventId: "4111 1111 1111 1111"),
            TestEvents.Create(sessionId: "sam@example.org", pageData: """{"url":"https://bob:hunter2@shop.example/x"}"""),
        ]);
        redaction.Process(context);

        rules.Completed(context);

        redactions.GetMeasurementSnapshot().Select(m => ((string?)m.Tags["rule"], m.Value))
            .Should().BeEquivalentTo([("email", 2L), ("card", 1L), ("credentials", 1L)]);
        var logged = logger.Collector.GetSnapshot().Should().ContainSingle().Subject;
        logged.Id.Id.Should().Be(1201);
        logged.GetStructuredStateValue("Count").Should().Be("4");
        logged.GetStructuredStateValue("Rules").Should().Be("email, card, credentials");
        logged.GetStructuredStateValue("ClientId").Should().Be("client_gdpr");
    }

    [Test]
    public void Completed_NothingRedacted_CountsAndLogsNothing()
    {
        using var redactions = new MetricCollector<long>(_services.GetRequiredService<IMeterFactory>(), CollectorMetrics.MeterName, "evothesis.collector.privacy.redactions");
        var logger = new FakeLogger<PrivacyRules>();
        var (rules, redaction) = Create(logger);
        var context = PrivacyRules.CreateContext(Clients.Gdpr(), "gdpr.example", Request(), [TestEvents.Create()]);
        redaction.Process(context);

        rules.Completed(context);

        redactions.GetMeasurementSnapshot().Should().BeEmpty();
        logger.Collector.Count.Should().Be(0);
    }

    [TestCase(PrivacyLevel.Hipaa, true)]
    [TestCase(PrivacyLevel.Gdpr, false)]
    [TestCase(PrivacyLevel.Standard, false)]
    public void CreateContext_AuditedOnlyForHipaa_CollectsRedactionLocations(PrivacyLevel level, bool collected)
    {
        var client = new ClientConfig { ClientId = "c", PrivacyLevel = level };

        PrivacyRules.CreateContext(client, "clinic.example", Request(), []).Redactions.CollectLocations.Should().Be(collected);
        PrivacyRules.IsAudited(client).Should().Be(collected);
    }

    [Test]
    public void EventProcessingContext_Drop_RefusesAMissingEventOrReason()
    {
        var e = TestEvents.Create();
        var context = new EventProcessingContext(Clients.Gdpr(), "gdpr.example", Request(), [e]);

        context.Invoking(c => c.Drop(null!, "consent")).Should().Throw<ArgumentNullException>();
        context.Invoking(c => c.Drop(e, " ")).Should().Throw<ArgumentException>();
        context.Events.Should().ContainSingle();
        context.Redactions.CollectLocations.Should().BeFalse("a context made by a host processor's test audits nothing");
    }

    private (PrivacyRules Rules, RedactionProcessor Redaction) Create(ILogger<PrivacyRules> logger)
    {
        var options = Options.Create(new CollectorOptions());
        var redactor = new JsonRedactor(options.Value.Privacy);
        var metrics = new PrivacyMetrics(new CollectorMetrics(_services.GetRequiredService<IMeterFactory>()));
        var redaction = new RedactionProcessor(redactor, options);
        var consent = new ConsentProcessor(metrics, NullLogger<ConsentProcessor>.Instance);
        return (new PrivacyRules(consent, redaction, redactor, metrics, logger), redaction);
    }

    private static CollectorRequest Request() => new() { Body = Stream.Null, RemoteIpAddress = IPAddress.Loopback };
}
