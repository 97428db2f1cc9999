using System.Collections.Concurrent;
using Evothesis.Collector.Batching;
using Evothesis.Collector.Batching.Internal;
using Evothesis.Collector.Diagnostics;
using Evothesis.Collector.Events;
using Evothesis.Collector.Sinks;
using Evothesis.Collector.Spool.Internal;
using Evothesis.Collector.Tests.Support;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Logging.Testing;

namespace Evothesis.Collector.Tests.Batching;

/// <summary>
/// One consumer on a real spool in a temporary folder with a fake clock: batch policy, in-order commits, retries and
/// parking. Time moves only when a test advances it, so "nothing happened yet" is checked once the consumer sleeps.
/// </summary>
public class SpoolConsumerTests
{
    private const string Consumer = "sink-test";
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(15);

    private SpoolTestContext _context = null!;
    private TestMeterFactory _meters = null!;
    private CollectorMetrics _metrics = null!;
    private FakeLogger _logger = null!;
    private CancellationTokenSource _stop = null!;

    [SetUp]
    public void SetUp()
    {
        _context = new SpoolTestContext { Consumers = [Consumer] };
        _meters = new TestMeterFactory();
        _metrics = new CollectorMetrics(_meters);
        _logger = new FakeLogger();
        _stop = new CancellationTokenSource();
    }

    [TearDown]
    public async Task TearDown()
    {
        await _stop.CancelAsync();
        _stop.Dispose();
        await _context.DisposeAsync();
        _meters.Dispose();
    }

    [Test]
    public async Task RunAsync_FewerEventsThanMaxEvents_DeliversOnceTheOldestRecordIsMaxAgeOld()
    {
        var spool = _context.Open();
        var sink = new ScriptedSink();
        var consumer = Create(spool, sink, new DeliveryPolicy(10, 1 << 20, TimeSpan.FromSeconds(10), 1));
        _ = consumer.RunAsync(_stop.Token);

        var end = await AppendAsync(spool, TestEvents.Many(3));
        _context.Time.Advance(TimeSpan.FromSeconds(4));
        var second = await AppendAsync(spool, TestEvents.Many(2));
        await Eventually.True(() => consumer.SleepingAt == second);
        sink.Attempts.Should().BeEmpty("5 of 10 events are waiting and the oldest is 4 s old");

        _context.Time.Advance(TimeSpan.FromSeconds(5.999));
        await Eventually.True(() => consumer.SleepingAt == second);
        sink.Attempts.Should().BeEmpty("the oldest record is not 10 s old yet");

        _context.Time.Advance(TimeSpan.FromMilliseconds(1));
        await Eventually.True(() => consumer.Committed == second);
        sink.Stored.Should().ContainSingle().Which.Count.Should().Be(5, "the records that joined meanwhile ride along");
        end.Should().BeLessThan(second);
    }

    [Test]
    public async Task RunAsync_MaxEventsWaiting_DeliversAtOnceAndLeavesTheRestForTheAge()
    {
        var spool = _context.Open();
        var sink = new ScriptedSink();
        var consumer = Create(spool, sink, new DeliveryPolicy(6, 1 << 20, TimeSpan.FromHours(1), 1));
        var first = await AppendAsync(spool, TestEvents.Many(3));
        var second = await AppendAsync(spool, TestEvents.Many(3));
        var third = await AppendAsync(spool, TestEvents.Many(3));
        _ = consumer.RunAsync(_stop.Token);

        await Eventually.True(() => consumer.Committed == second && consumer.SleepingAt == third);
        sink.Stored.Should().ContainSingle().Which.Count.Should().Be(6);
        first.Should().BeLessThan(second);

        _context.Time.Advance(TimeSpan.FromHours(1));
        await Eventually.True(() => consumer.Committed == third);
        sink.Stored.Select(b => b.Count).Should().Equal(6, 3);
    }

    [Test]
    public async Task RunAsync_MaxBytesWaiting_DeliversAtOnceWithoutSplittingARecord()
    {
        var spool = _context.Open();
        var sink = new ScriptedSink();
        var first = await AppendAsync(spool, TestEvents.Many(2));
        var recordBytes = first;
        var second = await AppendAsync(spool, TestEvents.Many(2));
        var third = await AppendAsync(spool, TestEvents.Many(2));

        // Room for two records: the first two make a batch at once, the third waits for its age.
        var consumer = Create(spool, sink, new DeliveryPolicy(1000, 2 * recordBytes, TimeSpan.FromHours(1), 1));
        _ = consumer.RunAsync(_stop.Token);

        await Eventually.True(() => consumer.Committed == second && consumer.SleepingAt == third);
        sink.Stored.Should().ContainSingle().Which.Count.Should().Be(4);
    }

    [Test]
    public async Task RunAsync_SpoolStopping_DeliversWhatIsLeftWithoutWaitingForTheAgeAndEnds()
    {
        var spool = _context.Open();
        var sink = new ScriptedSink();
        var consumer = Create(spool, sink, new DeliveryPolicy(100, 1 << 20, TimeSpan.FromHours(1), 1));
        var run = consumer.RunAsync(_stop.Token);
        var end = await AppendAsync(spool, TestEvents.Many(3));
        await Eventually.True(() => consumer.SleepingAt == end);

        await spool.StopAsync();

        await run.WaitAsync(Deadline);
        consumer.Committed.Should().Be(end);
        sink.Stored.Should().ContainSingle().Which.Count.Should().Be(3);
    }

    [Test]
    public async Task RunAsync_MaxInFlight_WritesBatchesAtOnceAndCommitsThemInOrder()
    {
        var spool = _context.Open();
        var sink = new ScriptedSink { Hold = true };
        var ends = new List<long>();
        for (var i = 0; i < 3; i++)
        {
            ends.Add(await AppendAsync(spool, TestEvents.Many(2)));
        }

        var consumer = Create(spool, sink, new DeliveryPolicy(2, 1 << 20, TimeSpan.Zero, 3));
        _ = consumer.RunAsync(_stop.Token);
        await Eventually.True(() => sink.Held.Count == 3);

        sink.Release(sink.Held.Keys.OrderBy(id => id).Last());
        sink.Release(sink.Held.Keys.OrderBy(id => id).ElementAt(1));
        await Eventually.True(() => sink.Stored.Length == 2);
        consumer.Committed.Should().Be(0, "the first batch is still being written");

        sink.Release(sink.Held.Keys.OrderBy(id => id).First());
        await Eventually.True(() => consumer.Committed == ends[2]);
        await spool.StopAsync();
        var checkpoint = Path.Combine(_context.SpoolPath, Consumer + SpoolFormat.CheckpointExtension);
        SpoolFormat.TryReadCheckpoint(await File.ReadAllBytesAsync(checkpoint), out var written).Should().BeTrue();
        written.Should().Be(ends[2]);
    }

    [Test]
    public async Task RunAsync_MaxInFlightOne_NeverWritesTwoBatchesAtOnce()
    {
        var spool = _context.Open();
        var sink = new ScriptedSink { Hold = true };
        await AppendAsync(spool, TestEvents.Many(1));
        var end = await AppendAsync(spool, TestEvents.Many(1));
        var consumer = Create(spool, sink, new DeliveryPolicy(1, 1 << 20, TimeSpan.Zero, 1));
        _ = consumer.RunAsync(_stop.Token);

        await Eventually.True(() => sink.Held.Count == 1 && consumer.SleepingAt == end);
        sink.Held.Should().HaveCount(1);
        sink.Release(sink.Held.Keys.Single());
        await Eventually.True(() => sink.Held.Count == 2);
        sink.Release(sink.Held.Keys.OrderBy(id => id).Last());
        await Eventually.True(() => consumer.Committed == end);
    }

    [Test]
    public async Task RunAsync_SinkFailing_RetriesOnlyAfterTheBackoffAndNeverParksATransientFailure()
    {
        var spool = _context.Open();
        var sink = new ScriptedSink { Failure = _ => new IOException("The database is down.") };
        var options = Options();
        var consumer = Create(spool, sink, Immediate, options);
        var end = await AppendAsync(spool, TestEvents.Many(2));
        _ = consumer.RunAsync(_stop.Token);

        for (var attempt = 1; attempt <= options.ParkAfterAttempts + 2; attempt++)
        {
            await Eventually.True(() => sink.Attempts.Length == attempt && consumer.SleepingAt == end);
            sink.Attempts.Should().HaveCount(attempt, "the next attempt waits for the backoff, on the clock");
            consumer.IsFailing.Should().BeTrue();
            _context.Time.Advance(options.RetryMaxDelay);
        }

        sink.Failure = null;
        _context.Time.Advance(options.RetryMaxDelay);
        await Eventually.True(() => consumer.Committed == end);
        consumer.IsFailing.Should().BeFalse();
        Directory.Exists(Path.Combine(_context.SpoolPath, ParkedRecords.FolderName)).Should().BeFalse();
        sink.Stored.Should().ContainSingle().Which.Id.Should().Be(sink.Attempts[0].Id, "a retry is the same batch");
    }

    [Test]
    public async Task RunAsync_BatchRefusedForGood_DeliversItsRequestsOneByOneAndParksTheOneRefusedAgain()
    {
        var spool = _context.Open();
        var sink = new ScriptedSink
        {
            Failure = batch => batch.Events.Any(e => e.EventType == "poison") ? new EventsRejectedException("value out of range for column page_data") : null,
        };
        var options = Options();
        var stored = new List<SpoolDelivery>();
        var consumer = Create(spool, sink, Immediate, options, stored.Add);
        using var parkedEvents = Collect("evothesis.collector.sink.parked.events");
        using var parkedRecords = Collect("evothesis.collector.sink.parked.records");
        var firstEnd = await AppendAsync(spool, TestEvents.Many(2, "client_a"));
        var poison = TestEvents.Create(clientId: "client_b", eventType: "poison", eventData: """{"marker":"SECRET-VALUE-42"}""");
        var poisonEnd = await AppendAsync(spool, [poison]);
        var end = await AppendAsync(spool, TestEvents.Many(3, "client_c"));
        _ = consumer.RunAsync(_stop.Token);

        for (var attempt = 1; attempt < options.ParkAfterAttempts; attempt++)
        {
            await Eventually.True(() => sink.Attempts.Length == attempt && consumer.SleepingAt == end);
            consumer.Committed.Should().Be(0);
            _context.Time.Advance(options.RetryMaxDelay);
        }

        await Eventually.True(() => consumer.Committed == end);
        sink.Attempts.Should().HaveCount(options.ParkAfterAttempts + 3, "the batch, then each of its three requests once");
        sink.Stored.Select(b => b.Id).Should().Equal(SpoolConsumer.BatchId(0, Appended(spool, 0)), SpoolConsumer.BatchId(poisonEnd, Appended(spool, poisonEnd)));
        sink.Stored.SelectMany(b => b.Events).Select(e => e.ClientId).Should().Equal("client_a", "client_a", "client_c", "client_c", "client_c");
        stored.Should().ContainSingle().Which.Batch.Events.Should().HaveCount(5, "the parked event is not reported as written");

        var files = Directory.GetFiles(Path.Combine(_context.SpoolPath, ParkedRecords.FolderName, Consumer));
        files.Should().ContainSingle().Which.Should().EndWith(ParkedRecordFile.FileName(firstEnd));
        var parked = ParkedRecordFile.Read(files[0]);
        parked.Info.Sink.Should().Be("scripted");
        parked.Info.Reason.Should().Be(nameof(EventsRejectedException));
        parked.Info.Message.Should().Be("value out of range for column page_data");
        parked.Info.BatchPosition.Should().Be(firstEnd, "alone, the request was its own batch");
        parked.Records.Should().ContainSingle();
        parked.Records[0].Position.Should().Be(firstEnd);
        parked.Records[0].NextPosition.Should().Be(poisonEnd);
        SpoolEventCodec.Decode(parked.Records[0].Payload).Events.Single().Id.Should().Be(poison.Id);

        parkedRecords.GetMeasurementSnapshot().Should().ContainSingle().Which.Value.Should().Be(1);
        var measurement = parkedEvents.GetMeasurementSnapshot().Should().ContainSingle().Subject;
        measurement.Value.Should().Be(1);
        measurement.Tags.Should().Contain(new KeyValuePair<string, object?>("sink", "scripted"))
            .And.Contain(new KeyValuePair<string, object?>("reason", "rejected"));
        var log = _logger.Collector.GetSnapshot().Should().ContainSingle(r => r.Id.Id == 1313).Subject;
        log.Message.Should().Contain("client_b").And.Contain("scripted").And.Contain(firstEnd.ToString(System.Globalization.CultureInfo.InvariantCulture))
            .And.Contain("value out of range");
        _logger.Collector.GetSnapshot().Should().NotContain(r => r.Message.Contains("SECRET-VALUE-42", StringComparison.Ordinal));
        _context.Files.DirectoryFlushes.Should().BeGreaterThan(0);
    }

    [Test]
    public async Task RunAsync_ParkedFileAltered_FailsItsChecksum()
    {
        var spool = _context.Open();
        var sink = new ScriptedSink { Failure = _ => new EventsRejectedException("refused") };
        var options = Options();
        options.ParkAfterAttempts = 1;
        var consumer = Create(spool, sink, Immediate, options);
        var end = await AppendAsync(spool, TestEvents.Many(2));
        _ = consumer.RunAsync(_stop.Token);
        await Eventually.True(() => consumer.Committed == end);

        var file = Directory.GetFiles(Path.Combine(_context.SpoolPath, ParkedRecords.FolderName, Consumer)).Single();
        ParkedRecordFile.Read(file).Records.Should().ContainSingle();
        var bytes = await File.ReadAllBytesAsync(file);
        bytes[^5] ^= 0x20;
        await File.WriteAllBytesAsync(file, bytes);

        var read = () => ParkedRecordFile.Read(file);
        read.Should().Throw<InvalidDataException>().WithMessage("*checksum*");
    }

    [Test]
    public async Task RunAsync_OneByOneRequestFailsTransiently_RetriesItInsteadOfParkingIt()
    {
        var spool = _context.Open();
        var singles = 0;
        var sink = new ScriptedSink();
        sink.Failure = batch =>
        {
            if (batch.Count > 2)
            {
                return new EventsRejectedException("refused as a whole");
            }

            return Interlocked.Increment(ref singles) == 1 ? new TimeoutException("The database took too long.") : null;
        };
        var options = Options();
        options.ParkAfterAttempts = 1;
        var consumer = Create(spool, sink, Immediate, options);
        await AppendAsync(spool, TestEvents.Many(2));
        var end = await AppendAsync(spool, TestEvents.Many(2));
        _ = consumer.RunAsync(_stop.Token);

        await Eventually.True(() => sink.Attempts.Length == 2 && consumer.SleepingAt == end);
        consumer.Committed.Should().Be(0);
        _context.Time.Advance(options.RetryMaxDelay);

        await Eventually.True(() => consumer.Committed == end);
        sink.Stored.SelectMany(b => b.Events).Should().HaveCount(4);
        Directory.Exists(Path.Combine(_context.SpoolPath, ParkedRecords.FolderName)).Should().BeFalse();
    }

    [Test]
    public async Task RunAsync_ClientFailsForGood_ParksItsRecordsAfterTheAttemptsAndCountsTheRestAsDelivered()
    {
        var spool = _context.Open();
        var sink = new ScriptedSink
        {
            StoreOthers = true,
            Failure = batch => batch.Events.Any(e => e.ClientId == "client_gone")
                ? new ClientWriteException(["client_gone"], new IOException("NoSuchBucket"), isPermanent: true)
                : null,
        };
        var options = Options();
        options.ParkAfterAttempts = 2;
        var stored = new List<SpoolDelivery>();
        var consumer = Create(spool, sink, Immediate, options, stored.Add);
        using var parkedEvents = Collect("evothesis.collector.sink.parked.events");
        var goneAt = await AppendAsync(spool, TestEvents.Many(2, "client_a"));
        await AppendAsync(spool, TestEvents.Many(3, "client_gone"));
        await AppendAsync(spool, TestEvents.Many(1, "client_b"));
        var end = await AppendAsync(spool, TestEvents.Many(1, "client_gone"));
        _ = consumer.RunAsync(_stop.Token);

        await Eventually.True(() => sink.Attempts.Length == 1 && consumer.SleepingAt == end);
        consumer.Committed.Should().Be(0);
        _context.Time.Advance(options.RetryMaxDelay);

        await Eventually.True(() => consumer.Committed == end);
        sink.Attempts.Should().HaveCount(2, "no request is retried alone for a client failure");
        stored.Should().ContainSingle().Which.Batch.Events.Select(e => e.ClientId).Should().Equal("client_a", "client_a", "client_b");
        stored[0].Batch.Id.Should().Be(sink.Attempts[0].Id);

        var parked = ParkedRecordFile.Read(Directory.GetFiles(Path.Combine(_context.SpoolPath, ParkedRecords.FolderName, Consumer)).Single());
        parked.Records.Select(r => SpoolEventCodec.Decode(r.Payload).Events.Count).Should().Equal(3, 1);
        parked.Records[0].Position.Should().Be(goneAt);
        parked.Info.BatchPosition.Should().Be(0, "a replay writes them under the batch's own id");
        parked.Info.ClientIds.Should().Equal("client_gone");
        parkedEvents.GetMeasurementSnapshot().Should().ContainSingle().Which.Tags.Should().Contain(new KeyValuePair<string, object?>("reason", "client_failed"));
    }

    [Test]
    public async Task RunAsync_ParkedFileCannotBeWritten_KeepsTheCursorUntilItIs()
    {
        var spool = _context.Open();
        var sink = new ScriptedSink { Failure = _ => new EventsRejectedException("refused") };
        var options = Options();
        options.ParkAfterAttempts = 1;
        var consumer = Create(spool, sink, Immediate, options);
        var end = await AppendAsync(spool, TestEvents.Many(2));
        _context.Files.Failure = new IOException("No space left on device.");
        _ = consumer.RunAsync(_stop.Token);

        await Eventually.True(() => _logger.Collector.GetSnapshot().Any(r => r.Id.Id == 1314) && consumer.SleepingAt == end);
        consumer.Committed.Should().Be(0);
        _context.Files.Failure = null;
        _context.Time.Advance(options.RetryMaxDelay);

        await Eventually.True(() => consumer.Committed == end);
        Directory.GetFiles(Path.Combine(_context.SpoolPath, ParkedRecords.FolderName, Consumer), "*" + ParkedRecordFile.Extension).Should().ContainSingle();
    }

    [Test]
    public async Task RunAsync_WithoutParking_RetriesARefusalForever()
    {
        var spool = _context.Open();
        var sink = new ScriptedSink { Failure = _ => new EventsRejectedException("refused") };
        var options = Options();
        var consumer = Create(spool, sink, Immediate, options, parking: false);
        var end = await AppendAsync(spool, TestEvents.Many(1));
        _ = consumer.RunAsync(_stop.Token);

        for (var attempt = 1; attempt <= options.ParkAfterAttempts * 2; attempt++)
        {
            await Eventually.True(() => sink.Attempts.Length == attempt && consumer.SleepingAt == end);
            _context.Time.Advance(options.RetryMaxDelay);
        }

        consumer.Committed.Should().Be(0);
        sink.Attempts.Should().OnlyContain(b => b.Count == 1);
        Directory.Exists(Path.Combine(_context.SpoolPath, ParkedRecords.FolderName)).Should().BeFalse();
    }

    private static readonly DeliveryPolicy Immediate = new(100, 1 << 20, TimeSpan.Zero, 1);

    private static BatchingOptions Options() => new()
    {
        RetryBaseDelay = TimeSpan.FromSeconds(1),
        RetryMaxDelay = TimeSpan.FromSeconds(8),
        ParkAfterAttempts = 3,
        SinkTimeout = TimeSpan.FromHours(1),
    };

    private static DateTimeOffset Appended(WriteAheadSpool spool, long position)
    {
        using var reader = spool.OpenReader(Consumer);
        reader.Seek(position);
        return reader.Read(1, 1 << 20, out _, out _).Records[0].AppendedAt;
    }

    private static async Task<long> AppendAsync(WriteAheadSpool spool, IReadOnlyList<CollectedEvent> events)
    {
        var result = spool.Append(SpoolEventCodec.Encode(events, audit: null));
        result.IsAccepted.Should().BeTrue();
        await result.Durable.WaitAsync(Deadline);
        return result.EndPosition;
    }

    private MetricCollector<long> Collect(string instrument) => new(_meters, CollectorMetrics.MeterName, instrument);

    private SpoolConsumer Create(
        WriteAheadSpool spool,
        ScriptedSink sink,
        DeliveryPolicy policy,
        BatchingOptions? options = null,
        Action<SpoolDelivery>? delivered = null,
        bool parking = true) =>
        new(Consumer, sink.Name, spool, (delivery, token) => sink.WriteAsync(delivery.Batch, token).AsTask(), delivered, policy,
            options ?? Options(), _context.Time, _metrics, _logger)
        {
            Parking = parking ? new ParkedRecords(spool.Path, Consumer, _context.Files) : null,
        };

    /// <summary>A sink that fails as a test says, stores the rest, and can hold each write until the test releases it.</summary>
    private sealed class ScriptedSink : IEventSink
    {
        private readonly ConcurrentQueue<EventBatch> _attempts = new();
        private readonly ConcurrentQueue<EventBatch> _stored = new();

        public string Name => "scripted";

        /// <summary>Gets or sets the exception a batch fails with; null stores it.</summary>
        public Func<EventBatch, Exception?>? Failure { get; set; }

        /// <summary>Gets or sets a value indicating whether a ClientWriteException still stores the other clients' events.</summary>
        public bool StoreOthers { get; set; }

        public bool Hold { get; set; }

        public ConcurrentDictionary<Guid, TaskCompletionSource> Held { get; } = new();

        public EventBatch[] Attempts => _attempts.ToArray();

        public EventBatch[] Stored => _stored.ToArray();

        public void Release(Guid id) => Held[id].TrySetResult();

        public async ValueTask WriteAsync(EventBatch batch, CancellationToken cancellationToken)
        {
            _attempts.Enqueue(batch);
            if (Hold)
            {
                var release = Held.GetOrAdd(batch.Id, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
                await release.Task.WaitAsync(cancellationToken);
            }

            var failure = Failure?.Invoke(batch);
            if (failure is ClientWriteException { } clients && StoreOthers)
            {
                _stored.Enqueue(new EventBatch(batch.Id, batch.CreatedAt, batch.Events.Where(e => !clients.FailedClientIds.Contains(e.ClientId)).ToArray()));
            }

            if (failure is not null)
            {
                throw failure;
            }

            _stored.Enqueue(batch);
        }
    }
}
