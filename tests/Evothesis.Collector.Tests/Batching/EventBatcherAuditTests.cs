using Evothesis.Collector.Batching;
using Evothesis.Collector.Diagnostics;
using Evothesis.Collector.Events;
using Evothesis.Collector.Privacy;
using Evothesis.Collector.Privacy.Internal;
using Evothesis.Collector.Sinks;
using Evothesis.Collector.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace Evothesis.Collector.Tests.Batching;

public sealed class EventBatcherAuditTests
{
    private ServiceProvider _services = null!;
    private InMemoryEventSink _sink = null!;
    private InMemoryAuditSink _audit = null!;

    [SetUp]
    public void SetUp()
    {
        _services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        _sink = new InMemoryEventSink();
        _audit = new InMemoryAuditSink();
    }

    [TearDown]
    public void TearDown() => _services.Dispose();

    [Test]
    public async Task Flush_BatchWithSeveralAuditedRequests_WritesTheirRecordsInOneWriteBeforeTheEvents()
    {
        var order = new List<string>();
        _audit.OnWrite = () => order.Add("audit");
        _sink.OnWrite = () => order.Add("events");
        await using var batcher = CreateBatcher(batchSize: 3);

        batcher.TryEnqueue(Events("a"), Record("a"), retainedBytes: 0, out var first);
        batcher.TryEnqueue(Events("b"), Record("b"), retainedBytes: 0, out var second);
        batcher.TryEnqueue(Events("c"), audit: null, retainedBytes: 0, out var third);
        batcher.Start();
        await Task.WhenAll(first!, second!, third!);

        order.Should().Equal("audit", "events");
        _audit.Writes.Should().ContainSingle().Which.Select(r => r.ClientId).Should().Equal("a", "b");
        _sink.Batches.Should().ContainSingle().Which.Events.Select(e => e.ClientId).Should().Equal("a", "b", "c");
    }

    [Test]
    public async Task Flush_AuditWriteFails_RefusesOnlyTheAuditedRequestsAndWritesTheRest()
    {
        _audit.Fail = true;
        await using var batcher = CreateBatcher(batchSize: 2);

        batcher.TryEnqueue(Events("audited"), Record("audited"), retainedBytes: 0, out var audited);
        batcher.TryEnqueue(Events("plain"), audit: null, retainedBytes: 0, out var plain);
        batcher.Start();

        var refusal = await audited!.Invoking(t => t).Should().ThrowAsync<BatchWriteException>();
        refusal.Which.Reason.Should().Be("audit_failure");
        await plain!;
        _sink.Events.Select(e => e.ClientId).Should().Equal("plain");
        batcher.QueuedEvents.Should().Be(0);
    }

    [Test]
    public async Task TryEnqueue_AuditedRequestInEnqueuedMode_GetsACompletionToWaitFor()
    {
        await using var batcher = CreateBatcher(batchSize: 1, ackMode: AckMode.Enqueued);

        batcher.TryEnqueue(Events("plain"), audit: null, retainedBytes: 0, out var plain);
        batcher.TryEnqueue(Events("audited"), Record("audited"), retainedBytes: 0, out var audited);

        plain.Should().BeNull();
        audited.Should().NotBeNull();
        batcher.Start();
        await audited!;
        _audit.Records.Should().ContainSingle();
    }

    private EventBatcher CreateBatcher(int batchSize, AckMode ackMode = AckMode.Durable)
    {
        var options = Options.Create(new CollectorOptions
        {
            Batching = new BatchingOptions { BatchSize = batchSize, AckMode = ackMode },
        });
        var metrics = new CollectorMetrics(_services.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>());
        var paths = new CollectorPaths();
        var trail = new AuditTrail([_audit], options, paths, new PrivacyMetrics(metrics), NullLogger<AuditTrail>.Instance);
        return new EventBatcher(
            new SinkSet([_sink], options, paths),
            [],
            options,
            new FakeTimeProvider(DateTimeOffset.UtcNow),
            metrics,
            NullLogger<EventBatcher>.Instance,
            trail);
    }

    private static List<CollectedEvent> Events(string clientId)
    {
        var now = DateTimeOffset.UtcNow;
        return
        [
            new CollectedEvent
            {
                Id = Guid.CreateVersion7(),
                EventType = "pageview",
                ClientId = clientId,
                SiteId = "site.example",
                Timestamp = now,
                ReceivedAt = now,
            },
        ];
    }

    private static AuditRecord Record(string clientId) => new()
    {
        Id = Guid.CreateVersion7(),
        Time = DateTimeOffset.UtcNow,
        ClientId = clientId,
        SiteId = "site.example",
        EventCount = 1,
        EventTypes = new Dictionary<string, int> { ["pageview"] = 1 },
    };
}
