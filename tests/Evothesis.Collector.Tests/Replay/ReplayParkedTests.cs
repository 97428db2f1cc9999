using System.Collections.Concurrent;
using System.Net;
using Evothesis.Collector.Batching.Internal;
using Evothesis.Collector.Events;
using Evothesis.Collector.Replay;
using Evothesis.Collector.Sinks;
using Evothesis.Collector.Spool;
using Evothesis.Collector.Spool.Internal;
using Evothesis.Collector.Tests.Sample;
using Evothesis.Collector.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace Evothesis.Collector.Tests.Replay;

/// <summary>
/// evothesis-replay --source parked end to end: the sample host parks what its sink refuses for good, the cause is
/// fixed, and the command delivers the parked records to that sink under the batch id a normal delivery gives them.
/// </summary>
public sealed class ReplayParkedTests
{
    private const string Poison = """{"eventType":"poison","siteId":"localhost","eventId":"P-1","event_data":{"field":"SECRET-7"}}""";

    private TempDirectory _storage = null!;

    [SetUp]
    public void SetUp() => _storage = new TempDirectory();

    [TearDown]
    public void TearDown() => _storage.Dispose();

    [Test]
    public async Task Run_ParkedSource_DeliversTheParkedRecordsToTheirSinkOnceFixedDeletesThemAndIsIdempotent()
    {
        var sink = new RefusingSink();
        var parkedFolder = Path.Combine(_storage.Path, SpoolOptions.DefaultFolderName, ParkedRecords.FolderName, "sink-refusing");
        using (var app = new CollectorApplication())
        {
            app.WithSetting("Evothesis:Storage:Path", _storage.Path)
                .WithSetting("Evothesis:Batching:AckMode", "Durable")
                .WithSetting("Evothesis:Batching:RetryBaseDelay", "00:00:00.005")
                .WithSetting("Evothesis:Batching:RetryMaxDelay", "00:00:00.020")
                .WithSetting("Evothesis:Batching:ParkAfterAttempts", "2")
                .WithServices(services => services.AddSingleton<IEventSink>(sink));

            (await app.PostAsync(SampleHostObjectStorageTests.SeedSingleEvent)).StatusCode.Should().Be(HttpStatusCode.Accepted);
            (await app.PostAsync(Poison)).StatusCode.Should().Be(HttpStatusCode.Accepted, "the visitor never waits for a sink");
            (await app.PostAsync(SampleHostObjectStorageTests.SeedBatch)).StatusCode.Should().Be(HttpStatusCode.Accepted);
            await Deliveries.AllSinksAsync(app.Services);
        }

        sink.Stored.Select(e => e.EventType).Should().BeEquivalentTo(["pageview", "click", "scroll"]);
        var parkedFile = Directory.GetFiles(parkedFolder).Should().ContainSingle().Subject;
        var parked = ParkedRecordFile.Read(parkedFile);
        var expectedId = SpoolConsumer.BatchId(parked.Info.BatchPosition, parked.Info.BatchAppendedAt);
        parked.Info.BatchPosition.Should().Be(parked.Records[0].Position, "refused alone, the request was its own batch");

        // The cause is not fixed yet: nothing is taken, the file stays.
        var (refused, refusedOutput) = await RunAsync(sink, "--source", "parked");
        refused.Should().Be(1, refusedOutput);
        refusedOutput.Should().Contain("Replayed 0 parked files").And.Contain("not replayed: " + parkedFile).And.Contain(nameof(EventsRejectedException));
        File.Exists(parkedFile).Should().BeTrue();

        sink.Refuse = false;
        var (code, output) = await RunAsync(sink, "--source", "parked");
        code.Should().Be(0, output);
        output.Should().Contain("Replayed 1 parked files (1 requests, 1 events)");
        sink.Batches.Last().Id.Should().Be(expectedId, "the id a normal delivery of that request gives");
        sink.Stored.Should().ContainSingle(e => e.EventType == "poison").Which.EventId.Should().Be("P-1");
        Directory.GetFiles(parkedFolder).Should().BeEmpty("the sink took all of it");

        var writes = sink.Batches.Length;
        var (again, againOutput) = await RunAsync(sink, "--source", "parked");
        again.Should().Be(0, againOutput);
        againOutput.Should().Contain("Replayed 0 parked files");
        sink.Batches.Should().HaveCount(writes, "nothing is left to replay");
    }

    [Test]
    public async Task Run_ParkedSourceForASinkNotConfigured_KeepsTheFileAndSaysSo()
    {
        var folder = Path.Combine(_storage.Path, SpoolOptions.DefaultFolderName, ParkedRecords.FolderName, "sink-gone");
        Directory.CreateDirectory(folder);
        var record = new SpoolRecord(0, 100, DateTimeOffset.UnixEpoch, SpoolEventCodec.Encode(TestEvents.Many(1), audit: null));
        var info = new ParkedRecordInfo("gone", "EventsRejectedException", "refused", DateTimeOffset.UnixEpoch, 0, DateTimeOffset.UnixEpoch, [0], 1, ["client_test"]);
        await File.WriteAllBytesAsync(Path.Combine(folder, ParkedRecordFile.FileName(0)), ParkedRecordFile.Encode(info, [record]));

        var (code, output) = await RunAsync(new RefusingSink(), "--source", "parked");

        code.Should().Be(1, output);
        output.Should().Contain("sink-gone").And.Contain("sink-refusing");
        Directory.GetFiles(folder).Should().ContainSingle();
    }

    [TestCase("--client", "client_test")]
    [TestCase("--from", "2026-11-26")]
    public async Task Run_ParkedSourceWithAFilter_ExitsWith2(string option, string value)
    {
        var output = new StringWriter();

        var code = await ReplayCommand.RunAsync(["--source", "parked", option, value], output);

        code.Should().Be(2);
        output.ToString().Should().Contain("replays whole parked files");
    }

    private async Task<(int Code, string Output)> RunAsync(RefusingSink sink, params string[] args)
    {
        var output = new StringWriter();
        var code = await ReplayCommand.RunAsync(
            args,
            output,
            new Dictionary<string, string?> { ["Evothesis:Storage:Path"] = _storage.Path },
            services => services.AddSingleton<IEventSink>(sink));
        return (code, output.ToString());
    }

    /// <summary>Refuses "poison" events for good while <see cref="Refuse"/> is set (a value the database rejects, until a migration fixes it).</summary>
    private sealed class RefusingSink : IEventSink
    {
        private readonly ConcurrentQueue<EventBatch> _batches = new();

        public string Name => "refusing";

        public bool Refuse { get; set; } = true;

        public EventBatch[] Batches => _batches.ToArray();

        public CollectedEvent[] Stored => _batches.SelectMany(b => b.Events).ToArray();

        public ValueTask WriteAsync(EventBatch batch, CancellationToken cancellationToken)
        {
            if (Refuse && batch.Events.Any(e => e.EventType == "poison"))
            {
                throw new EventsRejectedException("The event_type 'poison' is not allowed by a check constraint.");
            }

            _batches.Enqueue(batch);
            return ValueTask.CompletedTask;
        }
    }
}
