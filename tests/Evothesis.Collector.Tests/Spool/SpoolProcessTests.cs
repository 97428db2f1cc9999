using System.Diagnostics;
using System.IO.Compression;
using System.Net;
using System.Text;
using System.Text.Json;
using Evothesis.Collector.Batching;
using Evothesis.Collector.Diagnostics;
using Evothesis.Collector.Ingestion;
using Evothesis.Collector.Spool;
using Evothesis.Collector.Spool.Internal;
using Evothesis.Collector.Tests.Support;
using Microsoft.Extensions.Logging.Abstractions;

namespace Evothesis.Collector.Tests.Spool;

/// <summary>
/// The write-ahead spool through the sample host as a real OS process with its local folder sink: killed with SIGKILL
/// or stopped with SIGTERM under load and started again on the same folders, started on a spool with torn tails, on a
/// spool that fills up, and on a spool folder that cannot be created.
/// </summary>
[TestFixture]
[NonParallelizable]
[CancelAfter(60_000)]
public sealed class SpoolProcessTests
{
    private const string ClientId = "client_test";

    private const int KillRounds = 3;

    private static readonly TimeSpan LoadDuration = TimeSpan.FromSeconds(2.4);
    private static readonly TimeSpan DrainDeadline = TimeSpan.FromSeconds(20);

    private TempDirectory _storage = null!;

    [SetUp]
    public void SetUp() => _storage = new TempDirectory();

    [TearDown]
    public void TearDown() => _storage.Dispose();

    [Test]
    public async Task Kill9UnderLoad_Restarted_EveryAcknowledgedEventIsStoredOnce(CancellationToken cancellationToken)
    {
        await using var host = new SampleProcess(_storage.Path, new Dictionary<string, string?> { ["Evothesis:Batching:AckMode"] = "Durable" });
        await host.StartAsync(cancellationToken);

        // Several kills: each one a chance to catch an acknowledgement given before the spool had the events, and every
        // start but the first redelivers what the consumers had not written down while new requests arrive.
        var ledger = new CollectLedger();
        for (var round = 0; round < KillRounds; round++)
        {
            using (var stop = new CancellationTokenSource())
            {
                var load = CollectLoad.SendAsync(host, ledger, $"k{round}", stop.Token);
                await Task.Delay(LoadDuration / KillRounds, cancellationToken);

                // Mid-run: requests in flight lose their connection, some with their events fsynced and unanswered.
                host.Kill();
                await stop.CancelAsync();
                await load;
            }

            TestContext.Out.WriteLine($"killed in round {round}: stored then {ReadStoredEventIds().Count} events, acknowledged {ledger.Acknowledged.Count}");
            await host.StartAsync(cancellationToken);
        }

        var stored = await WaitForDrainAsync(ledger.Acknowledged, cancellationToken);

        ledger.Report(stored);
        ledger.Acknowledged.Count.Should().BeGreaterThan(500, "the load ran long enough to kill it mid-run");
        ledger.ShouldHoldEveryAcknowledgedEventOnce(stored);
        (await host.HealthAsync(cancellationToken)).Should().Be(HttpStatusCode.OK);
    }

    [Test]
    public async Task SigtermUnderLoad_ExitsByItself_AndAfterARestartEveryAcknowledgedEventIsStoredOnce(CancellationToken cancellationToken)
    {
        await using var host = new SampleProcess(_storage.Path, new Dictionary<string, string?> { ["Evothesis:Batching:AckMode"] = "Durable" });
        await host.StartAsync(cancellationToken);

        var ledger = new CollectLedger();
        int exitCode;
        using (var stop = new CancellationTokenSource())
        {
            var load = CollectLoad.SendAsync(host, ledger, "t", stop.Token);
            await Task.Delay(LoadDuration / 2, cancellationToken);

            // Requests keep coming while the host stops: it answers what it accepted, refuses the rest, and exits.
            exitCode = await host.TerminateAsync(TimeSpan.FromSeconds(20), cancellationToken);
            await stop.CancelAsync();
            await load;
        }

        var storedAtExit = ReadStoredEventIds();
        await host.StartAsync(cancellationToken);
        var stored = await WaitForDrainAsync(ledger.Acknowledged, cancellationToken);

        ledger.Report(stored);
        TestContext.Out.WriteLine($"stored when the first process exited: {storedAtExit.Count}, delivered by the next start: {stored.Count - storedAtExit.Count}");
        exitCode.Should().Be(0, host.Output);
        ledger.Acknowledged.Count.Should().BeGreaterThan(500, "the load ran long enough to stop it mid-run");
        ledger.ShouldHoldEveryAcknowledgedEventOnce(stored);
        ledger.Statuses.Keys.Should().OnlyContain(
            s => s == (int)HttpStatusCode.Accepted || s == (int)HttpStatusCode.ServiceUnavailable,
            "a stopping host answers what it accepted with 202 and refuses the rest with 503");
    }

    [Test]
    public async Task TornTails_Started_KeepsEveryWholeRecordAndLogsWhatItCut(CancellationToken cancellationToken)
    {
        // A spool written by the library itself, in small segments, as a host killed mid-write would leave it.
        var spoolPath = Path.Combine(_storage.Path, SpoolOptions.DefaultFolderName);
        var records = await WriteSpoolAsync(spoolPath, requests: 12, eventsPerRequest: 3, cancellationToken);
        var segments = Directory.GetFiles(spoolPath, "*" + SpoolFormat.SegmentExtension).Order(StringComparer.Ordinal).ToArray();
        segments.Should().HaveCountGreaterThanOrEqualTo(3, "the records span several segments");

        // Garbage after the last record of the first segment (a sealed one).
        var garbage = Encoding.ASCII.GetBytes("garbage written after the last record, no frame at all");
        await using (var first = new FileStream(segments[0], FileMode.Append))
        {
            await first.WriteAsync(garbage, cancellationToken);
        }

        // The last segment cut in the middle of its last record: that record's events were never acknowledged.
        var last = records[^1];
        SpoolFormat.TryParseSegmentFileName(Path.GetFileName(segments[^1]), out var lastBase).Should().BeTrue();
        last.Position.Should().BeGreaterThanOrEqualTo(lastBase, "the last record is in the last segment");
        var frameLength = last.End - last.Position;
        var kept = frameLength / 2;
        using (var file = File.OpenHandle(segments[^1], FileMode.Open, FileAccess.ReadWrite))
        {
            RandomAccess.SetLength(file, SpoolFormat.SegmentHeaderSize + (last.Position - lastBase) + kept);
        }

        await using var host = new SampleProcess(_storage.Path, new Dictionary<string, string?>
        {
            ["Evothesis:Batching:AckMode"] = "Committed",
            ["Logging:LogLevel:Evothesis.Collector.Spool"] = "Information",
        });
        await host.StartAsync(cancellationToken);
        (await host.HealthAsync(cancellationToken)).Should().Be(HttpStatusCode.OK, host.Output);

        // The spool goes on after the cut: a new request is stored with the whole records.
        using (var client = new HttpClient { BaseAddress = host.BaseAddress })
        {
            using var response = await client.SendAsync(CollectLoad.Request(["torn-after"]), cancellationToken);
            response.StatusCode.Should().Be(HttpStatusCode.Accepted, await response.Content.ReadAsStringAsync(cancellationToken));
        }

        var expected = records.Take(records.Count - 1).SelectMany(r => r.EventIds).Append("torn-after").ToList();
        var stored = await WaitForDrainAsync(expected, cancellationToken);

        TestContext.Out.WriteLine($"records written: {records.Count}, events expected: {expected.Count}, stored: {stored.Count}");
        stored.Should().BeEquivalentTo(expected, "every whole record is delivered once, and the cut one is not");
        host.Output.Should()
            .Contain($"Spool segment {Path.GetFileName(segments[0])} ended in a torn write: cut {garbage.Length} bytes (1 record(s))")
            .And.Contain($"Spool segment {Path.GetFileName(segments[^1])} ended in a torn write: cut {kept} bytes (1 record(s))");
    }

    [Test]
    public async Task SpoolFull_UnderLoad_Answers202Or503WithRetryAfter_AndStoresEvery202Once(CancellationToken cancellationToken)
    {
        // Consumed segments are deleted on the spool's housekeeping tick only (every CheckpointInterval): a spool of two
        // segments fills up between two ticks whatever the sink's speed, and frees a segment at the next.
        await using var host = new SampleProcess(_storage.Path, new Dictionary<string, string?>
        {
            ["Evothesis:Batching:AckMode"] = "Durable",
            ["Evothesis:Limits:MaxBodyBytes"] = "65536",
            ["Evothesis:Limits:MaxEventsPerBatch"] = "10",
            ["Evothesis:Spool:SegmentBytes"] = "1048576",
            ["Evothesis:Spool:MaxBytes"] = "2097152",
            ["Evothesis:Spool:MaxPendingBytes"] = "1048576",
            ["Evothesis:Spool:MinFreeDiskBytes"] = "0",
            ["Evothesis:Spool:CheckpointInterval"] = "00:00:01",
        });
        await host.StartAsync(cancellationToken);

        var ledger = new CollectLedger { Padding = new string('p', 6000) };
        using (var stop = new CancellationTokenSource())
        {
            var load = CollectLoad.SendAsync(host, ledger, "f", stop.Token, senders: 4);
            await Task.Delay(TimeSpan.FromSeconds(3), cancellationToken);
            await stop.CancelAsync();
            await load;
        }

        var stored = await WaitForDrainAsync(ledger.Acknowledged, cancellationToken);

        ledger.Report(stored);
        ledger.Failed.Should().Be(0, "the host stayed up");
        ledger.Statuses.Keys.Should().BeEquivalentTo(new[] { (int)HttpStatusCode.Accepted, (int)HttpStatusCode.ServiceUnavailable });
        ledger.RefusalsWithoutRetryAfter.Should().Be(0);
        ledger.RefusalTypes.Keys.Should().Equal(ProblemTypes.QueueFull);
        ledger.AcceptedAfterRefusal.Should().BeTrue("the next housekeeping tick deletes the segments every consumer has");
        ledger.ShouldHoldEveryAcknowledgedEventOnce(stored);
    }

    [Test]
    public async Task UnwritableSpoolFolder_Post_Answers503AndAcknowledgesNothing(CancellationToken cancellationToken)
    {
        // Running as root, permissions do not stop a write; a folder below a regular file cannot be created by anyone.
        var file = Path.Combine(_storage.Path, "not-a-folder");
        await File.WriteAllTextAsync(file, "a regular file", cancellationToken);
        await using var host = new SampleProcess(_storage.Path, new Dictionary<string, string?>
        {
            ["Evothesis:Spool:Path"] = Path.Combine(file, "spool"),
            ["Evothesis:Spool:RetryInterval"] = "00:00:00.050",
        });
        await host.StartAsync(cancellationToken);

        using var client = new HttpClient { BaseAddress = host.BaseAddress };
        for (var i = 0; i < 3; i++)
        {
            using var response = await client.SendAsync(CollectLoad.Request([$"unwritable-{i}"]), cancellationToken);
            var body = await response.Content.ReadAsStringAsync(cancellationToken);
            response.StatusCode.Should().Be(HttpStatusCode.ServiceUnavailable, body);
            response.Content.Headers.ContentType!.MediaType.Should().Be("application/problem+json");
            response.Headers.RetryAfter.Should().NotBeNull();
            JsonDocument.Parse(body).RootElement.GetProperty("type").GetString().Should().Be(ProblemTypes.SpoolUnavailable);

            // Past RetryInterval the next append tries the folder again, and is refused again.
            await Task.Delay(100, cancellationToken);
        }

        (await host.HealthAsync(cancellationToken)).Should().Be(HttpStatusCode.ServiceUnavailable, "the spool reports itself unhealthy");
        ReadStoredEventIds().Should().BeEmpty();
        host.Output.Should().Contain("could not be opened");
    }

    // Until the stored events stop changing for a second, holding every expected event (or for three seconds without).
    private async Task<List<string>> WaitForDrainAsync(IReadOnlyCollection<string> expected, CancellationToken cancellationToken)
    {
        var deadline = Stopwatch.StartNew();
        var stable = Stopwatch.StartNew();
        var last = -1;
        while (true)
        {
            var stored = ReadStoredEventIds();
            if (stored.Count != last)
            {
                last = stored.Count;
                stable.Restart();
            }
            else if (stable.Elapsed >= TimeSpan.FromSeconds(1) && (stable.Elapsed >= TimeSpan.FromSeconds(3) || ContainsAll(stored, expected)))
            {
                return stored;
            }

            if (deadline.Elapsed > DrainDeadline)
            {
                return stored;
            }

            await Task.Delay(100, cancellationToken);
        }
    }

    private static bool ContainsAll(List<string> stored, IReadOnlyCollection<string> expected) =>
        stored.ToHashSet(StringComparer.Ordinal).IsSupersetOf(expected);

    // Every eventId in the local folder sink's objects (one JSON event per line, gzip), once per stored line.
    private List<string> ReadStoredEventIds()
    {
        var ids = new List<string>();
        var client = Path.Combine(_storage.Path, "client_id=" + ClientId);
        if (!Directory.Exists(client))
        {
            return ids;
        }

        foreach (var path in Directory.EnumerateFiles(client, "*.ndjson.gz", SearchOption.AllDirectories))
        {
            using var gzip = new GZipStream(File.OpenRead(path), CompressionMode.Decompress);
            using var reader = new StreamReader(gzip, Encoding.UTF8);
            while (reader.ReadLine() is { } line)
            {
                if (line.Length > 0)
                {
                    ids.Add(JsonDocument.Parse(line).RootElement.GetProperty("eventId").GetString()!);
                }
            }
        }

        return ids;
    }

    // Writes a spool as the host would, one append per request, in 4 KiB segments; returns each record's span and events.
    private static async Task<List<WrittenRecord>> WriteSpoolAsync(string path, int requests, int eventsPerRequest, CancellationToken cancellationToken)
    {
        using var meters = new TestMeterFactory();
        var options = new SpoolOptions { SegmentBytes = 4096, MaxBytes = 1024 * 1024, MaxPendingBytes = 64 * 1024, MinFreeDiskBytes = 0 };
        // One consumer that never commits, so no segment is deleted: the host's audit trail, which these records do not concern.
        var spool = WriteAheadSpool.Open(path, options, [EventBatcher.AuditConsumerName], TimeProvider.System, new SpoolMetrics(new CollectorMetrics(meters)), NullLogger.Instance);
        var written = new List<WrittenRecord>();
        try
        {
            for (var r = 0; r < requests; r++)
            {
                var events = Enumerable.Range(0, eventsPerRequest)
                    .Select(e => StoredEvents.Create(clientId: ClientId, siteId: "localhost", eventId: $"torn-{r}-{e}", receivedAt: DateTimeOffset.UtcNow))
                    .ToList();
                var result = spool.Append(SpoolEventCodec.Encode(events, audit: null));
                result.Status.Should().Be(SpoolAppendStatus.Accepted);
                await result.Durable.WaitAsync(cancellationToken);
                written.Add(new WrittenRecord(result.Position, result.EndPosition, events.Select(e => e.EventId!).ToList()));
            }
        }
        finally
        {
            await spool.DisposeAsync();
        }

        return written;
    }

    private sealed record WrittenRecord(long Position, long End, IReadOnlyList<string> EventIds);
}
