using Evothesis.Collector.Batching;
using Evothesis.Collector.Diagnostics;
using Evothesis.Collector.Events;
using Evothesis.Collector.Sinks;
using Evothesis.Collector.Tests.Support;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace Evothesis.Collector.Tests.Batching;

public class EventBatcherTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(10);

    private FakeTimeProvider _time = null!;
    private CollectorMetrics _metrics = null!;
    private TestMeterFactory _meterFactory = null!;

    [SetUp]
    public void SetUp()
    {
        _time = new FakeTimeProvider(TestEvents.ReceivedAt);
        _meterFactory = new TestMeterFactory();
        _metrics = new CollectorMetrics(_meterFactory);
    }

    [TearDown]
    public void TearDown() => _meterFactory.Dispose();

    [Test]
    public async Task TryEnqueue_BatchSizeReached_WritesAtOnceWithoutWaitingForTheInterval()
    {
        var sink = new InMemoryEventSink();
        await using var batcher = Create(sink, o => o.BatchSize = 10);
        batcher.Start();

        batcher.TryEnqueue(TestEvents.Many(4), out var first).Should().Be(EnqueueStatus.Queued);
        batcher.TryEnqueue(TestEvents.Many(6), out var second).Should().Be(EnqueueStatus.Queued);

        await Task.WhenAll(first!, second!).WaitAsync(Deadline);
        sink.Batches.Should().ContainSingle().Which.Count.Should().Be(10, "two requests share one write");
    }

    [Test]
    public async Task TryEnqueue_PartialBatch_IsWrittenWhenTheFlushIntervalPasses()
    {
        var sink = new InMemoryEventSink();
        await using var batcher = Create(sink, o =>
        {
            o.BatchSize = 100;
            o.FlushInterval = TimeSpan.FromMilliseconds(200);
        });
        var waiting = WaitingSignal(batcher);
        batcher.Start();

        batcher.TryEnqueue(TestEvents.Many(3), out var written);
        await waiting.Task.WaitAsync(Deadline);

        _time.Advance(TimeSpan.FromMilliseconds(199));

        // The flusher reacts to the clock on its own thread: hand it one more event and wait until it waits
        // again. Had the advance released the batch, that write would have happened before this wait.
        var waitingAgain = WaitingSignal(batcher);
        batcher.TryEnqueue(TestEvents.Many(1), out var later);
        await waitingAgain.Task.WaitAsync(Deadline);
        sink.Batches.Should().BeEmpty("the interval has not passed");
        written!.IsCompleted.Should().BeFalse("a durable request waits for its write");

        _time.Advance(TimeSpan.FromMilliseconds(1));
        await Task.WhenAll(written, later!).WaitAsync(Deadline);
        sink.Batches.Should().ContainSingle("the interval runs from the oldest event").Which.Count.Should().Be(4);
    }

    [Test]
    public async Task TryEnqueue_EventsThatWaitedDuringAWrite_AreWrittenWithoutWaitingAnotherInterval()
    {
        var sink = new BlockingEventSink();
        await using var batcher = Create(sink, o =>
        {
            o.BatchSize = 2;
            o.FlushInterval = TimeSpan.FromMilliseconds(200);
        });
        batcher.Start();
        batcher.TryEnqueue(TestEvents.Many(2), out var first);
        await sink.Entered.WaitAsync(Deadline);

        batcher.TryEnqueue(TestEvents.Many(1), out var second);
        _time.Advance(TimeSpan.FromMilliseconds(250));
        sink.Release();

        await Task.WhenAll(first!, second!).WaitAsync(Deadline);
        sink.Written.Select(b => b.Count).Should().Equal(2, 1);
    }

    [Test]
    public async Task TryEnqueue_OneRequestLargerThanTheBatchSize_IsNeverSplit()
    {
        var sink = new InMemoryEventSink();
        await using var batcher = Create(sink, o => o.BatchSize = 5);
        batcher.Start();

        batcher.TryEnqueue(TestEvents.Many(3), out var first);
        batcher.TryEnqueue(TestEvents.Many(8), out var second);
        await Task.WhenAll(first!, second!).WaitAsync(Deadline);

        sink.Batches.Sum(b => b.Count).Should().Be(11);
        sink.Batches.Should().OnlyContain(b => b.Count == 3 || b.Count == 8 || b.Count == 11);
    }

    [Test]
    public async Task TryEnqueue_QueueFull_IsRefusedAndNothingIsLost()
    {
        var sink = new BlockingEventSink();
        await using var batcher = Create(sink, o =>
        {
            o.BatchSize = 5;
            o.QueueCapacity = 10;
        });
        batcher.Start();

        batcher.TryEnqueue(TestEvents.Many(5), out var inFlight).Should().Be(EnqueueStatus.Queued);
        await sink.Entered.WaitAsync(Deadline);
        batcher.TryEnqueue(TestEvents.Many(5), out var queued).Should().Be(EnqueueStatus.Queued);

        batcher.TryEnqueue(TestEvents.Many(1), out var refused).Should().Be(EnqueueStatus.QueueFull);
        refused.Should().BeNull();
        batcher.QueuedEvents.Should().Be(10);

        sink.Release();
        await Task.WhenAll(inFlight!, queued!).WaitAsync(Deadline);
        sink.Written.Sum(b => b.Count).Should().Be(10);
        batcher.QueuedEvents.Should().Be(0);
        batcher.TryEnqueue(TestEvents.Many(1), out _).Should().Be(EnqueueStatus.Queued, "room was freed by the write");
    }

    [Test]
    public async Task TryEnqueue_OverTheByteBudget_IsRefusedUntilMemoryIsReleased()
    {
        var sink = new BlockingEventSink();
        await using var batcher = Create(sink, o =>
        {
            o.BatchSize = 1;
            o.QueueCapacityBytes = 1024 * 1024;
        });

        batcher.TryEnqueue(TestEvents.Many(1), audit: null, retainedBytes: 600 * 1024, out var first).Should().Be(EnqueueStatus.Queued);
        await sink.Entered.WaitAsync(Deadline);

        batcher.TryEnqueue(TestEvents.Many(1), audit: null, retainedBytes: 600 * 1024, out _).Should().Be(EnqueueStatus.QueueFull, "one event can pin a whole inflated body");
        batcher.QueuedEvents.Should().Be(1);

        sink.Release();
        await first!.WaitAsync(Deadline);
        batcher.TryEnqueue(TestEvents.Many(1), audit: null, retainedBytes: 600 * 1024, out var third).Should().Be(EnqueueStatus.Queued);
        await third!.WaitAsync(Deadline);
    }

    [Test]
    public async Task TryEnqueue_WithoutAHostToStartIt_StartsTheFlusher()
    {
        var sink = new InMemoryEventSink();
        await using var batcher = Create(sink, o => o.BatchSize = 1);

        batcher.TryEnqueue(TestEvents.Many(1), out var written);

        await written!.WaitAsync(Deadline);
        sink.Events.Should().ContainSingle();
        batcher.IsRunning.Should().BeTrue();
    }

    [Test]
    public async Task SinkFailure_FailsTheWaitingRequests_AndCountsNoSuccess()
    {
        var sink = new ThrowingEventSink();
        await using var batcher = Create(sink, o => o.BatchSize = 2);
        using var written = new MetricCollector<long>(_meterFactory, CollectorMetrics.MeterName, "evothesis.collector.events.written");
        using var failures = new MetricCollector<long>(_meterFactory, CollectorMetrics.MeterName, "evothesis.collector.sink.failures");
        batcher.Start();

        batcher.TryEnqueue(TestEvents.Many(2), out var task);

        var failure = await FluentActions.Awaiting(() => task!.WaitAsync(Deadline)).Should().ThrowAsync<BatchWriteException>();
        failure.Which.Reason.Should().Be("sink_failure");
        failure.Which.InnerException.Should().BeOfType<IOException>();
        written.GetMeasurementSnapshot().Should().BeEmpty();
        failures.GetMeasurementSnapshot().Should().ContainSingle().Which.Tags["sink"].Should().Be("throwing");
        batcher.LastWriteFailed.Should().BeTrue();
        batcher.QueuedEvents.Should().Be(0);
    }

    [Test]
    public async Task SinkFailure_InEnqueuedMode_CountsAndLogsTheAcknowledgedEventsAsDropped()
    {
        var sink = new ThrowingEventSink();
        await using var batcher = Create(sink, o =>
        {
            o.BatchSize = 3;
            o.AckMode = AckMode.Enqueued;
        });
        using var dropped = new MetricCollector<long>(_meterFactory, CollectorMetrics.MeterName, "evothesis.collector.events.dropped");
        batcher.Start();

        batcher.TryEnqueue(TestEvents.Many(3), out var task).Should().Be(EnqueueStatus.Queued);
        task.Should().BeNull("enqueued mode does not wait for the write");

        await dropped.WaitForMeasurementsAsync(1).WaitAsync(Deadline);
        var measurement = dropped.GetMeasurementSnapshot().Single();
        measurement.Value.Should().Be(3);
        measurement.Tags["reason"].Should().Be("sink_failure");
    }

    [Test]
    public async Task AllSinks_ReceiveTheSameBatch_AndAnyFailureFailsIt()
    {
        var good = new InMemoryEventSink();
        var bad = new ThrowingEventSink();
        await using var batcher = Create([good, bad], o => o.BatchSize = 1);
        batcher.Start();

        batcher.TryEnqueue(TestEvents.Many(1), out var task);

        await FluentActions.Awaiting(() => task!.WaitAsync(Deadline)).Should().ThrowAsync<BatchWriteException>();
        good.Batches.Should().ContainSingle();
        bad.Attempts.Should().Be(1);
    }

    [Test]
    public async Task SinkFailingSomeClients_RefusesOnlyTheirRequests_AndWritesTheRest()
    {
        var observer = new RecordingObserver();
        var partial = new ClientFailingSink("client_b");
        var good = new InMemoryEventSink();
        await using var batcher = Create([partial, good], o => o.BatchSize = 4, observer);
        using var written = new MetricCollector<long>(_meterFactory, CollectorMetrics.MeterName, "evothesis.collector.events.written");
        batcher.Start();

        batcher.TryEnqueue(TestEvents.Many(2, clientId: "client_a"), out var a);
        batcher.TryEnqueue(TestEvents.Many(2, clientId: "client_b"), out var b);

        await a!.WaitAsync(Deadline);
        var failure = await FluentActions.Awaiting(() => b!.WaitAsync(Deadline)).Should().ThrowAsync<BatchWriteException>();
        failure.Which.Reason.Should().Be("sink_failure");
        failure.Which.InnerException.Should().BeOfType<ClientWriteException>().Which.FailedClientIds.Should().BeEquivalentTo("client_b");
        good.Batches.Should().ContainSingle().Which.Events.Should().HaveCount(4, "the sinks were given the whole batch");
        observer.Batches.Should().ContainSingle().Which.Events.Should().OnlyContain(e => e.ClientId == "client_a").And.HaveCount(2);
        written.GetMeasurementSnapshot().EvaluateAsCounter().Should().Be(2);
        batcher.LastWriteFailed.Should().BeFalse();
        batcher.QueuedEvents.Should().Be(0);
    }

    [Test]
    public async Task SinksFailingDifferentClients_RefuseTheRequestsOfEither()
    {
        await using var batcher = Create([new ClientFailingSink("client_a"), new ClientFailingSink("client_b")], o => o.BatchSize = 3);
        batcher.Start();

        batcher.TryEnqueue(TestEvents.Many(1, clientId: "client_a"), out var a);
        batcher.TryEnqueue(TestEvents.Many(1, clientId: "client_b"), out var b);
        batcher.TryEnqueue(TestEvents.Many(1, clientId: "client_c"), out var c);

        await c!.WaitAsync(Deadline);
        await FluentActions.Awaiting(() => a!.WaitAsync(Deadline)).Should().ThrowAsync<BatchWriteException>();
        await FluentActions.Awaiting(() => b!.WaitAsync(Deadline)).Should().ThrowAsync<BatchWriteException>();
    }

    [Test]
    public async Task SinkFailingSomeClients_WithAnotherSinkFailingWhole_FailsEveryRequest()
    {
        await using var batcher = Create([new ClientFailingSink("client_b"), new ThrowingEventSink()], o => o.BatchSize = 2);
        batcher.Start();

        batcher.TryEnqueue(TestEvents.Many(1, clientId: "client_a"), out var a);
        batcher.TryEnqueue(TestEvents.Many(1, clientId: "client_b"), out var b);

        await FluentActions.Awaiting(() => a!.WaitAsync(Deadline)).Should().ThrowAsync<BatchWriteException>();
        await FluentActions.Awaiting(() => b!.WaitAsync(Deadline)).Should().ThrowAsync<BatchWriteException>();
        batcher.LastWriteFailed.Should().BeTrue();
    }

    [Test]
    public async Task SinkFailingSomeClients_WithAnotherSinkTimedOut_FailsEveryRequest()
    {
        var hanging = new BlockingEventSink();
        await using var batcher = Create([new ClientFailingSink("client_b"), hanging], o =>
        {
            o.BatchSize = 2;
            o.SinkTimeout = TimeSpan.FromSeconds(5);
        });
        batcher.Start();

        batcher.TryEnqueue(TestEvents.Many(1, clientId: "client_a"), out var a);
        batcher.TryEnqueue(TestEvents.Many(1, clientId: "client_b"), out var b);
        await hanging.Entered.WaitAsync(Deadline);
        _time.Advance(TimeSpan.FromSeconds(5));

        // The timed-out sink stored nothing, so client_a's events are not written either.
        await FluentActions.Awaiting(() => a!.WaitAsync(Deadline)).Should().ThrowAsync<BatchWriteException>();
        await FluentActions.Awaiting(() => b!.WaitAsync(Deadline)).Should().ThrowAsync<BatchWriteException>();
        batcher.LastWriteFailed.Should().BeTrue();
    }

    [Test]
    public async Task SinkFailingClientsNotInTheBatch_FailsEveryRequest()
    {
        await using var batcher = Create([new ClientFailingSink("client_a") { Report = ["client_elsewhere"] }], o => o.BatchSize = 1);
        batcher.Start();

        batcher.TryEnqueue(TestEvents.Many(1, clientId: "client_a"), out var a);

        await FluentActions.Awaiting(() => a!.WaitAsync(Deadline)).Should().ThrowAsync<BatchWriteException>();
        batcher.LastWriteFailed.Should().BeTrue();
    }

    [Test]
    public async Task SinkTimeout_CancelsAHangingWrite_AndFailsTheRequests()
    {
        var sink = new BlockingEventSink();
        await using var batcher = Create(sink, o =>
        {
            o.BatchSize = 1;
            o.SinkTimeout = TimeSpan.FromSeconds(5);
        });
        batcher.Start();

        batcher.TryEnqueue(TestEvents.Many(1), out var task);
        await sink.Entered.WaitAsync(Deadline);
        _time.Advance(TimeSpan.FromSeconds(5));

        await FluentActions.Awaiting(() => task!.WaitAsync(Deadline)).Should().ThrowAsync<BatchWriteException>();
    }

    [Test]
    public async Task StopAsync_DrainsEverythingQueued_AndRefusesNewEvents()
    {
        var sink = new InMemoryEventSink();
        var batcher = Create(sink, o =>
        {
            o.BatchSize = 1000;
            o.FlushInterval = TimeSpan.FromMinutes(5);
        });
        batcher.Start();
        batcher.TryEnqueue(TestEvents.Many(7), out var first);
        batcher.TryEnqueue(TestEvents.Many(5), out var second);

        await batcher.StopAsync(CancellationToken.None).WaitAsync(Deadline);

        sink.Events.Should().HaveCount(12, "stopping writes what is queued without waiting for the interval");
        first!.IsCompletedSuccessfully.Should().BeTrue();
        second!.IsCompletedSuccessfully.Should().BeTrue();
        batcher.TryEnqueue(TestEvents.Many(1), out _).Should().Be(EnqueueStatus.ShuttingDown);
        await batcher.DisposeAsync();
    }

    [Test]
    public async Task StopAsync_BudgetRunsOut_CancelsTheWriteAndFailsTheWaitingRequests()
    {
        var sink = new BlockingEventSink();
        var batcher = Create(sink, o => o.BatchSize = 1);
        batcher.Start();
        batcher.TryEnqueue(TestEvents.Many(1), out var task);
        await sink.Entered.WaitAsync(Deadline);

        using var budget = new CancellationTokenSource();
        await budget.CancelAsync();
        await batcher.StopAsync(budget.Token).WaitAsync(Deadline);

        var failure = await FluentActions.Awaiting(() => task!.WaitAsync(Deadline)).Should().ThrowAsync<BatchWriteException>();
        failure.Which.Reason.Should().Be("shutdown");
        await batcher.DisposeAsync();
    }

    [Test]
    public async Task StopAsync_NeverStarted_StillWritesWhatWasQueued()
    {
        var sink = new InMemoryEventSink();
        var batcher = Create(sink);
        batcher.TryEnqueue(TestEvents.Many(2), out var task);

        await batcher.StopAsync(CancellationToken.None).WaitAsync(Deadline);

        await task!.WaitAsync(Deadline);
        sink.Events.Should().HaveCount(2);
        await batcher.DisposeAsync();
    }

    [Test]
    public async Task Flush_BatchId_IsAUuidV7AndEventsKeepArrivalOrder()
    {
        var sink = new InMemoryEventSink();
        await using var batcher = Create(sink, o => o.BatchSize = 4);
        batcher.Start();
        var events = TestEvents.Many(4);

        batcher.TryEnqueue(events.Take(2).ToList(), out var first);
        batcher.TryEnqueue(events.Skip(2).ToList(), out var second);
        await Task.WhenAll(first!, second!).WaitAsync(Deadline);

        var batch = sink.Batches.Single();
        batch.Id.Version.Should().Be(7);
        batch.CreatedAt.Should().Be(_time.GetUtcNow());
        batch.Events.Should().Equal(events);
    }

    [Test]
    public async Task Observers_AreToldOnlyAboutWrittenBatches()
    {
        var observer = new RecordingObserver();
        var sink = new ThrowingEventSink();
        await using var batcher = Create([sink], o => o.BatchSize = 1, observer);
        batcher.Start();

        batcher.TryEnqueue(TestEvents.Many(1), out var failed);
        await FluentActions.Awaiting(() => failed!.WaitAsync(Deadline)).Should().ThrowAsync<BatchWriteException>();
        sink.Failing = false;
        batcher.TryEnqueue(TestEvents.Many(1), out var succeeded);
        await succeeded!.WaitAsync(Deadline);

        observer.Batches.Should().ContainSingle();
        batcher.LastWriteFailed.Should().BeFalse();
    }

    [Test]
    public async Task QueueDepth_IsObservable()
    {
        var sink = new BlockingEventSink();
        await using var batcher = Create(sink, o => o.BatchSize = 2);
        using var depth = new MetricCollector<long>(_meterFactory, CollectorMetrics.MeterName, "evothesis.collector.queue.depth");
        batcher.Start();

        batcher.TryEnqueue(TestEvents.Many(2), out var task);
        await sink.Entered.WaitAsync(Deadline);
        depth.RecordObservableInstruments();

        depth.LastMeasurement!.Value.Should().Be(2);
        sink.Release();
        await task!.WaitAsync(Deadline);
    }

    [Test]
    public async Task TryEnqueue_CommitObserverThrows_RequestsAreStillAcknowledgedAndTheFailureCounted()
    {
        var sink = new InMemoryEventSink();
        using var failures = new MetricCollector<long>(_meterFactory, CollectorMetrics.MeterName, "evothesis.collector.observer.failures");
        await using var batcher = Create([sink], o => o.BatchSize = 2, new ThrowingObserver());
        batcher.Start();

        batcher.TryEnqueue(TestEvents.Many(2), out var written).Should().Be(EnqueueStatus.Queued);

        await written!.WaitAsync(Deadline);
        sink.Events.Should().HaveCount(2);
        batcher.LastWriteFailed.Should().BeFalse();
        failures.GetMeasurementSnapshot().Sum(m => m.Value).Should().Be(1);
    }

    private EventBatcher Create(IEventSink sink, Action<BatchingOptions>? configure = null) => Create([sink], configure);

    private EventBatcher Create(IEventSink[] sinks, Action<BatchingOptions>? configure = null, IBatchCommitObserver? observer = null)
    {
        var options = new CollectorOptions();
        configure?.Invoke(options.Batching);
        return new EventBatcher(
            new SinkSet(sinks, Options.Create(options), new CollectorPaths()),
            observer is null ? [] : [observer],
            Options.Create(options),
            _time,
            _metrics,
            NullLogger<EventBatcher>.Instance);
    }

    private static TaskCompletionSource WaitingSignal(EventBatcher batcher)
    {
        var signal = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        batcher.WaitingForMoreEvents += () => signal.TrySetResult();
        return signal;
    }

    private sealed class ThrowingObserver : IBatchCommitObserver
    {
        public void OnCommitted(EventBatch batch) => throw new InvalidOperationException("The observer failed.");
    }

    // Stores every client's events but those of the given clients, as a sink with a broken dedicated bucket would.
    private sealed class ClientFailingSink(params string[] failing) : IEventSink
    {
        public string Name => "partial";

        /// <summary>The clients the exception names, when not those that failed (a sink that gets them wrong).</summary>
        public string[]? Report { get; init; }

        public ValueTask WriteAsync(EventBatch batch, CancellationToken cancellationToken)
        {
            var failed = batch.Events.Select(e => e.ClientId).Where(failing.Contains).Distinct().ToList();
            return failed.Count == 0
                ? ValueTask.CompletedTask
                : ValueTask.FromException(new ClientWriteException(Report ?? [.. failed], new IOException("The dedicated bucket is unavailable.")));
        }
    }

    private sealed class RecordingObserver : IBatchCommitObserver
    {
        public List<EventBatch> Batches { get; } = [];

        public void OnCommitted(EventBatch batch) => Batches.Add(batch);
    }
}
