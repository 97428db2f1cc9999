using Evothesis.Collector.Audit;
using Evothesis.Collector.Audit.Internal;
using Evothesis.Collector.Diagnostics;
using Evothesis.Collector.Sinks.ObjectStorage;
using Evothesis.Collector.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Options;

namespace Evothesis.Collector.Tests.Privacy;

public sealed class AuditTrailTests
{
    private ServiceProvider _services = null!;
    private TempDirectory _spoolStorage = null!;

    [SetUp]
    public void SetUp()
    {
        _services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        _spoolStorage = new TempDirectory();
    }

    [TearDown]
    public void TearDown()
    {
        _services.Dispose();
        _spoolStorage.Dispose();
    }

    [Test]
    public void Constructor_NoRegisteredSink_UsesFilesUnderAuditInTheStorageFolder()
    {
        var storage = Path.Combine(Path.GetTempPath(), "evothesis-trail-" + Guid.NewGuid().ToString("N"));

        var trail = Create([], storage);

        trail.Sinks.Should().ContainSingle().Which.Should().BeOfType<ObjectStorageAuditSink>()
            .Which.Name.Should().Be("audit:local:" + storage);
    }

    [Test]
    public async Task WriteAsync_SeveralSinks_WritesToEach()
    {
        var first = new InMemoryAuditSink();
        var second = new InMemoryAuditSink();
        var trail = Create([first, second]);

        await trail.WriteAsync([Record()], CancellationToken.None);

        first.Records.Should().ContainSingle();
        second.Records.Should().ContainSingle();
        trail.LastWriteFailed.Should().BeFalse();
    }

    [Test]
    public async Task WriteAsync_OneSinkFails_ThrowsAndMakesTheCollectorDegradedUntilAWriteSucceeds()
    {
        var failing = new InMemoryAuditSink { Fail = true };
        var trail = Create([new InMemoryAuditSink(), failing]);
        await using var batcher = CreateRunningBatcher();
        var health = new CollectorHealthCheck(batcher, trail);

        var act = async () => await trail.WriteAsync([Record()], CancellationToken.None);

        await act.Should().ThrowAsync<IOException>();
        trail.LastWriteFailed.Should().BeTrue();
        (await health.CheckHealthAsync(new HealthCheckContext())).Status.Should().Be(HealthStatus.Degraded, "the records wait in the spool; visitors are still answered");

        failing.Fail = false;
        await trail.WriteAsync([Record()], CancellationToken.None);
        (await health.CheckHealthAsync(new HealthCheckContext())).Status.Should().Be(HealthStatus.Healthy);
    }

    [Test]
    public async Task WriteAsync_Written_IsCountedAndLoggedPerSink()
    {
        using var records = Collect("evothesis.collector.audit.records");
        using var failures = Collect("evothesis.collector.audit.failures");
        var logger = new FakeLogger<AuditTrail>();
        var trail = Create([new InMemoryAuditSink()], logger: logger);

        await trail.WriteAsync([Record(), Record()], CancellationToken.None);

        records.GetMeasurementSnapshot().Select(m => (m.Value, m.Tags["outcome"])).Should().Equal((2L, (object?)"written"));
        failures.GetMeasurementSnapshot().Should().BeEmpty();
        logger.Collector.GetSnapshot().Select(r => (r.Id.Id, r.Level, Sink: r.GetStructuredStateValue("Sink"), Count: r.GetStructuredStateValue("Count")))
            .Should().Equal((1203, LogLevel.Debug, "in-memory-audit", "2"));
        trail.LastWriteFailed.Should().BeFalse();
    }

    [Test]
    public async Task WriteAsync_OnlySinkFails_IsCountedWithTheSinkAndThrows()
    {
        using var records = Collect("evothesis.collector.audit.records");
        using var failures = Collect("evothesis.collector.audit.failures");
        var logger = new FakeLogger<AuditTrail>();
        var sink = new InMemoryAuditSink { Fail = true };
        var trail = Create([sink], logger: logger);

        var act = async () => await trail.WriteAsync([Record(), Record(), Record()], CancellationToken.None);

        await act.Should().ThrowAsync<IOException>();
        trail.LastWriteFailed.Should().BeTrue();
        records.GetMeasurementSnapshot().Select(m => (m.Value, m.Tags["outcome"])).Should().Equal((3L, (object?)"failed"));
        failures.GetMeasurementSnapshot().Select(m => (m.Value, m.Tags["sink"])).Should().Equal((1L, (object?)"in-memory-audit"));
        var logged = logger.Collector.GetSnapshot().Should().ContainSingle().Subject;
        logged.Id.Id.Should().Be(1202);
        logged.Level.Should().Be(LogLevel.Error);
        logged.Exception.Should().BeOfType<IOException>();
        logged.GetStructuredStateValue("Count").Should().Be("3");

        sink.Fail = false;
        await trail.WriteAsync([Record()], CancellationToken.None);
        trail.LastWriteFailed.Should().BeFalse("a successful write clears the failure");
    }

    private AuditTrail Create(IAuditSink[] sinks, string? storage = null, ILogger<AuditTrail>? logger = null)
    {
        var options = Options.Create(new CollectorOptions());
        options.Value.Storage.Path = storage ?? Path.GetTempPath();
        var metrics = new AuditMetrics(new CollectorMetrics(_services.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>()));
        return new AuditTrail(sinks, options, new CollectorPaths(), metrics, logger ?? NullLogger<AuditTrail>.Instance);
    }

    private MetricCollector<long> Collect(string instrument) =>
        new(_services.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>(), CollectorMetrics.MeterName, instrument);

    private Evothesis.Collector.Batching.EventBatcher CreateRunningBatcher()
    {
        var options = Options.Create(new CollectorOptions());
        options.Value.Storage.Path = _spoolStorage.Path;
        var batcher = new Evothesis.Collector.Batching.EventBatcher(
            new Evothesis.Collector.Sinks.SinkSet([new InMemoryEventSink()], options, new CollectorPaths()),
            [],
            options,
            new CollectorPaths(),
            TimeProvider.System,
            new CollectorMetrics(_services.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>()),
            NullLoggerFactory.Instance);
        batcher.Start();
        return batcher;
    }

    private static AuditRecord Record() => new()
    {
        Id = Guid.CreateVersion7(),
        Time = DateTimeOffset.UtcNow,
        ClientId = "client_hipaa",
        SiteId = "clinic.example",
        EventCount = 1,
        EventTypes = new Dictionary<string, int> { ["pageview"] = 1 },
    };
}
