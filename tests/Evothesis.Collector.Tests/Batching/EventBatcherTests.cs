using Evothesis.Collector.Audit;
using Evothesis.Collector.Audit.Internal;
using Evothesis.Collector.Batching;
using Evothesis.Collector.Batching.Internal;
using Evothesis.Collector.Diagnostics;
using Evothesis.Collector.Events;
using Evothesis.Collector.Sinks;
using Evothesis.Collector.Spool;
using Evothesis.Collector.Spool.Internal;
using Evothesis.Collector.Tests.Support;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Options;

namespace Evothesis.Collector.Tests.Batching;

/// <summary>
/// Requests go to the write-ahead spool; every sink and the audit trail consume it with their own cursor. Real files in
/// a temporary folder; waits are bounded by a deadline, never sleeps.
/// </summary>
public class EventBatcherTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(15);

    private TempDirectory _storage = null!;
    private TestMeterFactory _meterFactory = null!;
    private CollectorMetrics _metrics = null!;
    private FakeLogCollector _logs = null!;

    [SetUp]
    public void SetUp()
    {
        _storage = new TempDirectory();
        _meterFactory = new TestMeterFactory();
        _metrics = new CollectorMetrics(_meterFactory);
        _logs = new FakeLogCollector();
    }

    [TearDown]
    public void TearDown()
    {
        _meterFactory.Dispose();
        _storage.Dispose();
    }

    [Test]
    public async Task TryEnqueue_Durable_IsAcknowledgedOnceSpooledWhileTheSinkIsStillWriting()
    {
        var sink = new BlockingEventSink();
        await using var batcher = Create([sink]);
        batcher.Start();

        batcher.TryEnqueue(TestEvents.Many(3), audit: null, out var written).Should().Be(EnqueueStatus.Queued);

        await written!.WaitAsync(Deadline);
        await sink.Entered.WaitAsync(Deadline);
        sink.Written.Should().BeEmpty("the request is acknowledged from the spool, not from the sink");
        sink.Release();
        await Eventually.True(() => sink.Written.Sum(b => b.Count) == 3);
    }

    [Test]
    public async Task TryEnqueue_ConcurrentRequests_ShareFsyncs()
    {
        var sink = new InMemoryEventSink();
        using var fsyncs = new MetricCollector<long>(_meterFactory, CollectorMetrics.MeterName, "evothesis.collector.spool.fsyncs");
        await using var batcher = Create([sink]);
        batcher.Start();

        var writes = new List<Task>();
        Parallel.For(0, 200, _ =>
        {
            batcher.TryEnqueue(TestEvents.Many(1), audit: null, out var written).Should().Be(EnqueueStatus.Queued);
            lock (writes)
            {
                writes.Add(written!);
            }
        });

        await Task.WhenAll(writes).WaitAsync(Deadline);
        fsyncs.GetMeasurementSnapshot().Sum(m => m.Value).Should().BeLessThan(200, "requests that arrive during one fsync share the next");
        await Eventually.True(() => sink.Events.Count == 200);
    }

    [Test]
    public async Task Consumer_SinkFailing_RetriesUntilItRecoversAndStoresEachEventOnce()
    {
        var sink = new InMemoryEventSink { Fail = true };
        using var retries = new MetricCollector<long>(_meterFactory, CollectorMetrics.MeterName, "evothesis.collector.sink.retries");
        await using var batcher = Create([sink]);
        batcher.Start();

        batcher.TryEnqueue(TestEvents.Many(5), audit: null, out var written);
        await written!.WaitAsync(Deadline);
        await Eventually.True(() => retries.GetMeasurementSnapshot().Count >= 2);
        batcher.Consumers[0].IsFailing.Should().BeTrue();
        sink.Fail = false;

        await Eventually.True(() => sink.Events.Count == 5);
        sink.Events.Select(e => e.EventId).Should().OnlyHaveUniqueItems();
        await Eventually.True(() => !batcher.Consumers[0].IsFailing);
    }

    [Test]
    public async Task Consumer_OneSinkDown_TheOtherSinkKeepsWriting()
    {
        var down = new InMemoryEventSink { Fail = true };
        var up = new NamedSink("up");
        await using var batcher = Create([down, up]);
        batcher.Start();

        for (var i = 0; i < 5; i++)
        {
            batcher.TryEnqueue(TestEvents.Many(2), audit: null, out var written);
            await written!.WaitAsync(Deadline);
        }

        await Eventually.True(() => up.Events.Length == 10);
        down.Events.Should().BeEmpty();
        batcher.Spool.GetConsumerLags().Single(l => l.Consumer == batcher.Consumers[0].Name).Bytes.Should().BeGreaterThan(0);
    }

    [Test]
    public async Task TryEnqueue_Committed_WaitsForTheFirstSink()
    {
        var first = new BlockingEventSink();
        var other = new NamedSink("other");
        await using var batcher = Create([first, other], o => o.AckMode = AckMode.Committed);
        batcher.Start();

        batcher.TryEnqueue(TestEvents.Many(2), audit: null, out var written);
        await Eventually.True(() => other.Events.Length == 2);
        await first.Entered.WaitAsync(Deadline);
        written!.IsCompleted.Should().BeFalse("the first sink has not written yet");

        first.Release();
        await written.WaitAsync(Deadline);
    }

    [Test]
    public async Task TryEnqueue_Committed_DoesNotWaitForTheOtherSinks()
    {
        var first = new NamedSink("first");
        var other = new BlockingEventSink();
        await using var batcher = Create([first, other], o =>
        {
            o.AckMode = AckMode.Committed;
            o.DeliveryDelay = TimeSpan.FromMinutes(5);
        });
        batcher.Start();

        batcher.TryEnqueue(TestEvents.Many(2), audit: null, out var written);

        await written!.WaitAsync(Deadline);
        first.Events.Should().HaveCount(2, "the first sink delivers at once in Committed mode, whatever DeliveryDelay says");
        other.Written.Should().BeEmpty();
        other.Release();
    }

    [Test]
    public async Task TryEnqueue_CommittedAuditedRequest_WaitsForTheAuditTrailToo()
    {
        var sink = new InMemoryEventSink();
        var audit = new InMemoryAuditSink { Fail = true };
        await using var batcher = Create([sink], o => o.AckMode = AckMode.Committed, audit);
        batcher.Start();

        batcher.TryEnqueue(TestEvents.Many(1), audit: null, out var plain);
        await plain!.WaitAsync(Deadline);
        batcher.TryEnqueue(TestEvents.Many(1), Record(), out var audited);
        await Eventually.True(() => batcher.Consumers[^1].IsFailing);
        audited!.IsCompleted.Should().BeFalse("its audit record is not written");

        audit.Fail = false;
        await audited.WaitAsync(Deadline);
        audit.Records.Should().HaveCount(1);
    }

    [Test]
    public async Task Consumer_SinkRefusesARequestForGood_ParksItDeliversTheOthersAndReportsDegraded()
    {
        var sink = new RejectingSink("client_poison");
        await using var batcher = Create([sink], o =>
        {
            o.ParkAfterAttempts = 2;
            o.BatchSize = 100;
        });
        var health = new CollectorHealthCheck(batcher);
        using var parkedNow = new MetricCollector<long>(_meterFactory, CollectorMetrics.MeterName, "evothesis.collector.sink.parked");
        using var lagEvents = new MetricCollector<long>(_meterFactory, CollectorMetrics.MeterName, "evothesis.collector.spool.consumer.lag.events");

        batcher.TryEnqueue(TestEvents.Many(2, "client_a"), audit: null, out var a);
        batcher.TryEnqueue(TestEvents.Many(1, "client_poison"), audit: null, out var poison);
        batcher.TryEnqueue(TestEvents.Many(3, "client_b"), audit: null, out var b);
        await Task.WhenAll(a!, poison!, b!).WaitAsync(Deadline);
        batcher.Start();

        await Eventually.True(() => batcher.Consumers[0].Committed == batcher.Spool.DurablePosition);
        sink.Stored.Select(e => e.ClientId).Should().BeEquivalentTo(["client_a", "client_a", "client_b", "client_b", "client_b"]);
        var folder = Path.Combine(_storage.Path, SpoolOptions.DefaultFolderName, ParkedRecords.FolderName, batcher.Consumers[0].Name);
        Directory.GetFiles(folder, "*" + ParkedRecordFile.Extension).Should().ContainSingle();

        var result = await health.CheckHealthAsync(new Microsoft.Extensions.Diagnostics.HealthChecks.HealthCheckContext());
        result.Status.Should().Be(Microsoft.Extensions.Diagnostics.HealthChecks.HealthStatus.Degraded);
        result.Description.Should().Contain("1 parked request(s) (1 events)").And.Contain(folder);
        result.Data["parked_records:" + batcher.Consumers[0].Name].Should().Be(1L);
        parkedNow.RecordObservableInstruments();
        parkedNow.LastMeasurement!.Value.Should().Be(1);
        parkedNow.LastMeasurement.Tags.Should().Contain(new KeyValuePair<string, object?>("sink", "rejecting"));
        lagEvents.RecordObservableInstruments();
        lagEvents.GetMeasurementSnapshot().Should().Contain(m => m.Value == 0 && m.Tags.Contains(new KeyValuePair<string, object?>("sink", "rejecting")));

        foreach (var file in Directory.GetFiles(folder))
        {
            File.Delete(file);
        }

        (await health.CheckHealthAsync(new Microsoft.Extensions.Diagnostics.HealthChecks.HealthCheckContext())).Status
            .Should().Be(Microsoft.Extensions.Diagnostics.HealthChecks.HealthStatus.Healthy, "a replay took the parked records");
    }

    [Test]
    public async Task TryEnqueue_Enqueued_AnswersAtOnceAndDelivers()
    {
        var sink = new InMemoryEventSink();
        await using var batcher = Create([sink], o => o.AckMode = AckMode.Enqueued);
        batcher.Start();

        batcher.TryEnqueue(TestEvents.Many(4), audit: null, out var written).Should().Be(EnqueueStatus.Queued);

        written.Should().BeNull();
        await Eventually.True(() => sink.Events.Count == 4);
    }

    [Test]
    public async Task TryEnqueue_AuditedRequestInEnqueuedMode_WaitsUntilDurableAndTheAuditTrailGetsItsRecord()
    {
        var sink = new InMemoryEventSink();
        var audit = new InMemoryAuditSink();
        await using var batcher = Create([sink], o => o.AckMode = AckMode.Enqueued, audit);
        batcher.Start();

        batcher.TryEnqueue(TestEvents.Many(1), Record(), out var written);

        written.Should().NotBeNull("an audited request is acknowledged only once durable");
        await written!.WaitAsync(Deadline);
        await Eventually.True(() => audit.Records.Count == 1 && sink.Events.Count == 1);
    }

    [Test]
    public async Task Consumer_AuditSinkFailing_HoldsTheAuditedEventsBackUntilTheirRecordIsWritten()
    {
        var sink = new InMemoryEventSink();
        var audit = new InMemoryAuditSink { Fail = true };
        await using var batcher = Create([sink], audit: audit);
        batcher.Start();

        batcher.TryEnqueue(TestEvents.Many(1), Record(), out var written);
        await written!.WaitAsync(Deadline);
        await Eventually.True(() => batcher.Consumers[^1].IsFailing);
        sink.Events.Should().BeEmpty("no audited event is stored before its audit record");

        var order = new List<string>();
        audit.OnWrite = () => order.Add("audit");
        sink.OnWrite = () => order.Add("events");
        audit.Fail = false;
        await Eventually.True(() => audit.Records.Count == 1 && sink.Events.Count == 1);
        order.Should().Equal("audit", "events");
    }

    [Test]
    public async Task Consumer_ManyRequests_DeliversBatchesOfAtMostBatchSizeWithoutSplittingARequest()
    {
        var sink = new BlockingEventSink();
        await using var batcher = Create([sink], o => o.BatchSize = 10);
        batcher.Start();

        var writes = new List<Task>();
        for (var i = 0; i < 12; i++)
        {
            batcher.TryEnqueue(TestEvents.Many(3), audit: null, out var written);
            writes.Add(written!);
        }

        await Task.WhenAll(writes).WaitAsync(Deadline);
        sink.Release();
        await Eventually.True(() => sink.Written.Sum(b => b.Count) == 36);
        sink.Written.Should().OnlyContain(b => b.Count <= 10 && b.Count % 3 == 0);
    }

    [Test]
    public async Task StopAsync_SinkDown_LeavesTheRecordsForTheNextStartWhichDeliversThemWithTheSameIds()
    {
        var down = new InMemoryEventSink { Fail = true };
        var events = TestEvents.Many(3);
        await using (var first = Create([down]))
        {
            first.Start();
            first.TryEnqueue(events, audit: null, out var written);
            await written!.WaitAsync(Deadline);
            using var budget = new CancellationTokenSource(TimeSpan.FromMilliseconds(200));
            await first.StopAsync(budget.Token);
        }

        var up = new InMemoryEventSink();
        await using var second = Create([up]);
        second.Start();

        await Eventually.True(() => up.Events.Count == 3);
        up.Events.Select(e => e.Id).Should().BeEquivalentTo(events.Select(e => e.Id), "a redelivery writes the same row ids");
    }

    [Test]
    public async Task Consumer_AfterEachDelivery_WritesItsCursorWithoutWaitingForTheCheckpointInterval()
    {
        // After a crash a batch is read again with the same id (the same object keys) only when it starts at the cursor
        // on disk: with the cursor written lazily, the batches since it would be read again with other boundaries.
        var sink = new InMemoryEventSink();
        await using var batcher = Create([sink], configureAll: o => o.Spool.CheckpointInterval = TimeSpan.FromHours(1));
        batcher.Start();
        var checkpoint = Path.Combine(_storage.Path, SpoolOptions.DefaultFolderName, batcher.Consumers[0].Name + SpoolFormat.CheckpointExtension);

        for (var i = 1; i <= 3; i++)
        {
            batcher.TryEnqueue(TestEvents.Many(2), audit: null, out var written).Should().Be(EnqueueStatus.Queued);
            await written!.WaitAsync(Deadline);
            var end = batcher.Spool.DurablePosition;

            await Eventually.True(() => File.Exists(checkpoint)
                && SpoolFormat.TryReadCheckpoint(File.ReadAllBytes(checkpoint), out var position)
                && position == end);
            sink.Events.Should().HaveCount(2 * i);
        }
    }

    [Test]
    public async Task StopAsync_SinksUp_DeliversEverythingAcceptedBeforeReturning()
    {
        var sink = new InMemoryEventSink();
        var batcher = Create([sink], o => o.AckMode = AckMode.Enqueued);
        batcher.Start();
        for (var i = 0; i < 50; i++)
        {
            batcher.TryEnqueue(TestEvents.Many(2), audit: null, out _);
        }

        await batcher.StopAsync(CancellationToken.None).WaitAsync(Deadline);
        await batcher.DisposeAsync();

        sink.Events.Should().HaveCount(100);
        batcher.TryEnqueue(TestEvents.Many(1), audit: null, out _).Should().Be(EnqueueStatus.ShuttingDown);
    }

    [Test]
    public async Task TryEnqueue_SpoolFull_IsRefusedAndNothingIsDropped()
    {
        var sink = new BlockingEventSink();
        await using var batcher = Create([sink], configure: null, audit: null, o =>
        {
            o.Spool.SegmentBytes = 64 * 1024;
            o.Spool.MaxBytes = 128 * 1024;
            o.Spool.MaxPendingBytes = 64 * 1024;
            o.Spool.MinFreeDiskBytes = 0;
        });
        batcher.Start();

        var statuses = new List<EnqueueStatus>();
        var blob = $$"""{"blob":"{{new string('x', 3000)}}"}""";
        for (var i = 0; i < 100; i++)
        {
            statuses.Add(batcher.TryEnqueue([TestEvents.Create(eventData: blob), TestEvents.Create(eventData: blob)], audit: null, out var written));
            if (written is not null)
            {
                await written.WaitAsync(Deadline);
            }
        }

        statuses.Should().Contain(EnqueueStatus.QueueFull);
        var accepted = statuses.Count(s => s == EnqueueStatus.Queued);
        sink.Release();
        await Eventually.True(() => sink.Written.Sum(b => b.Count) == accepted * 2);
    }

    [Test]
    public async Task TryEnqueue_SpoolFolderCannotBeCreated_IsRefusedAsUnavailable()
    {
        var blocker = Path.Combine(_storage.Path, "not-a-folder");
        await File.WriteAllTextAsync(blocker, "a file where the spool folder should be");
        await using var batcher = Create([new InMemoryEventSink()], configure: null, audit: null, o => o.Spool.Path = Path.Combine(blocker, "spool"));

        batcher.TryEnqueue(TestEvents.Many(1), audit: null, out var written).Should().Be(EnqueueStatus.Unavailable);
        written.Should().BeNull();
    }

    [Test]
    public async Task Consumer_CommitObserverThrows_DeliveryGoesOnAndTheFailureIsCounted()
    {
        var sink = new InMemoryEventSink();
        using var failures = new MetricCollector<long>(_meterFactory, CollectorMetrics.MeterName, "evothesis.collector.observer.failures");
        await using var batcher = Create([sink], observer: new ThrowingObserver());
        batcher.Start();

        batcher.TryEnqueue(TestEvents.Many(2), audit: null, out var first);
        await first!.WaitAsync(Deadline);
        await Eventually.True(() => sink.Events.Count == 2);
        batcher.TryEnqueue(TestEvents.Many(2), audit: null, out var second);
        await second!.WaitAsync(Deadline);

        await Eventually.True(() => sink.Events.Count == 4);
        await Eventually.True(() => failures.GetMeasurementSnapshot().Sum(m => m.Value) == 2);
    }

    [Test]
    public async Task Consumer_BatchWritten_LogsTheSeedLinePerClientAndSite()
    {
        var sink = new InMemoryEventSink();
        await using var batcher = Create([sink]);
        batcher.Start();

        batcher.TryEnqueue([.. TestEvents.Many(2, "client_a"), .. TestEvents.Many(1, "client_b")], audit: null, out var written);
        await written!.WaitAsync(Deadline);

        await Eventually.True(() => _logs.GetSnapshot().Count(r => r.Message.StartsWith("Bulk inserted", StringComparison.Ordinal)) == 2);
        _logs.GetSnapshot().Select(r => r.Message).Should().Contain("Bulk inserted 2 events for client client_a from site localhost")
            .And.Contain("Bulk inserted 1 events for client client_b from site localhost");
    }

    [Test]
    public void BatchId_SameFirstRecord_IsTheSameVersion7Id()
    {
        var appended = new DateTimeOffset(2026, 12, 5, 10, 0, 0, TimeSpan.Zero);

        var id = SpoolConsumer.BatchId(4096, appended);

        id.Should().Be(SpoolConsumer.BatchId(4096, appended));
        id.Should().NotBe(SpoolConsumer.BatchId(4097, appended));
        id.Version.Should().Be(7);
        id.ToString()[..8].Should().Be(Guid.CreateVersion7(appended).ToString()[..8], "the id sorts by the append time");
    }

    [TestCase(1, 0.0, 50)]
    [TestCase(1, 0.999, 100)]
    [TestCase(3, 0.0, 200)]
    [TestCase(20, 0.999, 29_985)]
    [TestCase(1000, 0.5, 22_500)]
    public void RetryBackoff_Attempt_DoublesWithJitterUpToTheCap(int attempt, double random, int expectedMilliseconds)
    {
        var backoff = new RetryBackoff(TimeSpan.FromMilliseconds(100), TimeSpan.FromSeconds(30));

        backoff.Delay(attempt, random).TotalMilliseconds.Should().BeApproximately(expectedMilliseconds, 1);
    }

    [Test]
    public void ConsumerNames_SinkNames_AreFileSafeUniqueAndStable()
    {
        IEventSink[] sinks = [new NamedSink("PostgreSQL"), new NamedSink("backup:Bucket/Events"), new NamedSink("backup:bucket-events")];

        var names = EventBatcher.ConsumerNames(sinks);

        names.Should().Equal("sink-postgresql", "sink-backup-bucket-events", "sink-backup-bucket-events-2");
        EventBatcher.ConsumerNames(sinks).Should().Equal(names);
    }

    private EventBatcher Create(
        IEventSink[] sinks,
        Action<BatchingOptions>? configure = null,
        InMemoryAuditSink? audit = null,
        Action<CollectorOptions>? configureAll = null,
        IBatchCommitObserver? observer = null)
    {
        var options = new CollectorOptions();
        options.Storage.Path = _storage.Path;
        options.Batching.RetryBaseDelay = TimeSpan.FromMilliseconds(5);
        options.Batching.RetryMaxDelay = TimeSpan.FromMilliseconds(50);
        options.Spool.MinFreeDiskBytes = 0;
        configure?.Invoke(options.Batching);
        configureAll?.Invoke(options);
        var wrapped = Options.Create(options);
        var paths = new CollectorPaths();
        var trail = new AuditTrail([audit ?? new InMemoryAuditSink()], wrapped, paths, new AuditMetrics(_metrics), NullLogger<AuditTrail>.Instance);
        return new EventBatcher(
            new SinkSet(sinks, wrapped, paths),
            observer is null ? [] : [observer],
            wrapped,
            paths,
            TimeProvider.System,
            _metrics,
            LoggerFactory.Create(b => b.AddProvider(new FakeLoggerProvider(_logs))),
            trail);
    }


    private static AuditRecord Record() => new()
    {
        Id = Guid.CreateVersion7(),
        Time = DateTimeOffset.UtcNow,
        ClientId = "client_test",
        SiteId = "localhost",
        EventCount = 1,
        EventTypes = new Dictionary<string, int> { ["pageview"] = 1 },
    };

    private sealed class ThrowingObserver : IBatchCommitObserver
    {
        public void OnCommitted(EventBatch batch) => throw new InvalidOperationException("The observer failed.");
    }

    /// <summary>Refuses for good every batch holding an event of one client (a value the database rejects).</summary>
    private sealed class RejectingSink(string poisonClient) : IEventSink
    {
        private readonly System.Collections.Concurrent.ConcurrentQueue<CollectedEvent> _stored = new();

        public string Name => "rejecting";

        public CollectedEvent[] Stored => _stored.ToArray();

        public ValueTask WriteAsync(EventBatch batch, CancellationToken cancellationToken)
        {
            if (batch.Events.Any(e => e.ClientId == poisonClient))
            {
                throw new EventsRejectedException("The database refuses a value.");
            }

            foreach (var e in batch.Events)
            {
                _stored.Enqueue(e);
            }

            return ValueTask.CompletedTask;
        }
    }

    private sealed class NamedSink(string name) : IEventSink
    {
        private readonly System.Collections.Concurrent.ConcurrentQueue<CollectedEvent> _events = new();

        public string Name => name;

        public CollectedEvent[] Events => _events.ToArray();

        public ValueTask WriteAsync(EventBatch batch, CancellationToken cancellationToken)
        {
            foreach (var e in batch.Events)
            {
                _events.Enqueue(e);
            }

            return ValueTask.CompletedTask;
        }
    }
}
