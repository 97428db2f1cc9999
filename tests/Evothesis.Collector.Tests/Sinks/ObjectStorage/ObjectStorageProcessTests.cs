using System.Diagnostics;
using System.Net;
using System.Text.RegularExpressions;
using Evothesis.Collector.Sinks.S3;
using Evothesis.Collector.Tests.Support;

namespace Evothesis.Collector.Tests.Sinks.ObjectStorage;

/// <summary>
/// The sample host as a real OS process writing to a client bucket and a backup bucket on a real s3rver of the test's
/// own: s3rver stopped for 20 seconds under load, and the host killed with SIGKILL while it delivers a backlog. Every
/// acknowledged event ends up once in each bucket (NDJSON lines counted by eventId).
/// </summary>
[TestFixture]
[NonParallelizable]
public sealed partial class ObjectStorageProcessTests
{
    // Two clients of the sample's clients file, so a batch is several objects per bucket.
    private static readonly string[] Origins = ["http://localhost", "https://shop.acme.com"];

    private static readonly TimeSpan Outage = TimeSpan.FromSeconds(20);
    private static readonly TimeSpan DrainDeadline = TimeSpan.FromSeconds(60);

    private TempDirectory _storage = null!;
    private S3TestServer _s3 = null!;
    private string _clientBucket = null!;
    private string _backupBucket = null!;

    [SetUp]
    public async Task SetUpAsync()
    {
        _storage = new TempDirectory();

        // A server of the test's own: it is stopped and started again, which the shared one must never be.
        _s3 = await S3TestServer.StartAsync();
        _clientBucket = await _s3.CreateBucketAsync("client");
        _backupBucket = await _s3.CreateBucketAsync("backup");
    }

    [TearDown]
    public async Task TearDownAsync()
    {
        await _s3.DisposeAsync();
        _storage.Dispose();
    }

    [Test]
    [CancelAfter(120_000)]
    public async Task S3rverStopped20SecondsUnderLoad_EveryRequestIsAcknowledged_AndAfterwardsEveryEventIsOnceInEachBucket(CancellationToken cancellationToken)
    {
        await using var host = new SampleProcess(_storage.Path, Settings());
        await host.StartAsync(cancellationToken);

        var ledger = new CollectLedger();
        var watch = Stopwatch.StartNew();
        TimeSpan restarted;
        using (var stop = new CancellationTokenSource())
        {
            var load = CollectLoad.SendAsync(host, ledger, "o", stop.Token, senders: 4, Origins, pause: TimeSpan.FromMilliseconds(5));
            await Task.Delay(TimeSpan.FromSeconds(2), cancellationToken);

            await _s3.StopAsync();
            var before = ledger.Acknowledged.Count;
            await Task.Delay(Outage, cancellationToken);
            var during = ledger.Acknowledged.Count - before;
            await _s3.RestartAsync();
            restarted = watch.Elapsed;
            TestContext.Out.WriteLine($"acknowledged while s3rver was down: {during}");
            during.Should().BeGreaterThan(100, "the load went on through the outage");

            await Task.Delay(TimeSpan.FromSeconds(2), cancellationToken);
            await stop.CancelAsync();
            await load;
        }

        var (client, backup) = await WaitForDrainAsync(ledger.Acknowledged, cancellationToken);

        TestContext.Out.WriteLine($"both buckets held every acknowledged event {(watch.Elapsed - restarted).TotalSeconds:F1} s after s3rver was back");
        ledger.Report(client, "client bucket");
        ledger.Report(backup, "backup bucket");
        ledger.Failed.Should().Be(0, "every request was answered");
        ledger.Statuses.Keys.Should().Equal([(int)HttpStatusCode.Accepted], "a bucket outage is not the visitors' problem");
        ledger.ShouldHoldEveryAcknowledgedEventOnce(client, "the client bucket");
        ledger.ShouldHoldEveryAcknowledgedEventOnce(backup, "the backup bucket");
        (await host.HealthAsync(cancellationToken)).Should().Be(HttpStatusCode.OK, "the sinks recovered");
    }

    [Test]
    [CancelAfter(120_000)]
    public async Task Kill9WhileDeliveringABacklog_Restarted_EveryAcknowledgedEventIsOnceInEachBucket(CancellationToken cancellationToken)
    {
        // Small objects: the backlog takes many batches, so a kill lands between writing objects and recording them.
        await using var host = new SampleProcess(_storage.Path, Settings(new()
        {
            ["Evothesis:S3:ObjectMaxBytes"] = "16384",
            ["Logging:LogLevel:Evothesis.Collector.Sinks.ObjectStorage"] = "Debug",
        }));
        await host.StartAsync(cancellationToken);

        // The backlog is accepted while s3rver is down: every request is answered before any delivery, so the kills
        // below land during delivery only, never during acceptance.
        await _s3.StopAsync();
        var ledger = new CollectLedger();
        using (var stop = new CancellationTokenSource())
        {
            var load = CollectLoad.SendAsync(host, ledger, "k", stop.Token, senders: 8, Origins);
            await Task.Delay(TimeSpan.FromSeconds(3), cancellationToken);
            await stop.CancelAsync();
            await load;
        }

        ledger.Failed.Should().Be(0);
        ledger.Statuses.Keys.Should().Equal([(int)HttpStatusCode.Accepted]);
        await _s3.RestartAsync();

        var killedWith = new List<int>();
        for (var round = 0; round < 3; round++)
        {
            // Once the host has written a few more objects, mid-backlog.
            var start = (await _s3.ListKeysAsync(_clientBucket)).Count;
            var deadline = Stopwatch.StartNew();
            while ((await _s3.ListKeysAsync(_clientBucket)).Count < start + 3 && deadline.Elapsed < TimeSpan.FromSeconds(20))
            {
                await Task.Delay(10, cancellationToken);
            }

            host.Kill();
            var stored = (await EventIdsAsync(_clientBucket)).Distinct().Count();
            killedWith.Add(stored);
            TestContext.Out.WriteLine($"killed in round {round} with {stored} of {ledger.Acknowledged.Count} acknowledged events in the client bucket");
            await host.StartAsync(cancellationToken);
        }

        var (client, backup) = await WaitForDrainAsync(ledger.Acknowledged, cancellationToken);

        ledger.Report(client, "client bucket");
        ledger.Report(backup, "backup bucket");
        var rewritten = RewrittenKeys(host.Output);
        TestContext.Out.WriteLine($"objects written again, under the same key, by a later start: {rewritten}");
        killedWith.Should().OnlyContain(n => n < ledger.Acknowledged.Count, "each kill landed while the backlog was being delivered");
        ledger.ShouldHoldEveryAcknowledgedEventOnce(client, "the client bucket");
        ledger.ShouldHoldEveryAcknowledgedEventOnce(backup, "the backup bucket");
    }

    private Dictionary<string, string?> Settings(Dictionary<string, string?>? extra = null)
    {
        var settings = _s3.Settings(_clientBucket, _backupBucket);
        settings["Evothesis:Batching:AckMode"] = "Durable";

        // Small objects and short waits, so the test reads the buckets within seconds.
        settings["Evothesis:S3:ObjectMaxAge"] = "00:00:00.500";
        settings["Evothesis:Batching:RetryMaxDelay"] = "00:00:01";
        foreach (var (key, value) in extra ?? [])
        {
            settings[key] = value;
        }

        return settings;
    }

    // Until both buckets hold every acknowledged event (or the deadline passes); their eventIds, once per stored line.
    private async Task<(List<string> Client, List<string> Backup)> WaitForDrainAsync(HashSet<string> acknowledged, CancellationToken cancellationToken)
    {
        var deadline = Stopwatch.StartNew();
        var lastKeys = -1;
        while (true)
        {
            // Reading every object is slow on s3rver: only once the listings stop growing.
            var keys = (await _s3.ListKeysAsync(_clientBucket)).Count + (await _s3.ListKeysAsync(_backupBucket)).Count;
            if (keys == lastKeys || deadline.Elapsed > DrainDeadline)
            {
                var client = await EventIdsAsync(_clientBucket);
                var backup = await EventIdsAsync(_backupBucket);
                if ((acknowledged.IsSubsetOf(client) && acknowledged.IsSubsetOf(backup)) || deadline.Elapsed > DrainDeadline)
                {
                    return (client, backup);
                }
            }

            lastKeys = keys;
            await Task.Delay(500, cancellationToken);
        }
    }

    private async Task<List<string>> EventIdsAsync(string bucket)
    {
        using var client = _s3.CreateClient();
        var store = new S3ObjectStore(client, bucket);
        var ids = new List<string>();
        foreach (var key in await _s3.ListKeysAsync(bucket))
        {
            ids.AddRange((await store.ReadEventsAsync(key)).Select(e => e.EventId!));
        }

        return ids;
    }

    // Objects one start of the host wrote and a later start wrote again under the same key (from the sink's debug log).
    private static int RewrittenKeys(string output)
    {
        var writtenBy = new Dictionary<string, int>(StringComparer.Ordinal);
        var rewritten = new HashSet<string>(StringComparer.Ordinal);
        var start = 0;
        foreach (var line in output.Split('\n'))
        {
            if (line.StartsWith("--- start on", StringComparison.Ordinal))
            {
                start++;
            }
            else if (WroteLine().Match(line) is { Success: true } wrote)
            {
                var key = wrote.Groups["store"].Value + "/" + wrote.Groups["key"].Value;
                if (writtenBy.TryGetValue(key, out var earlier) && earlier < start)
                {
                    rewritten.Add(key);
                }

                writtenBy[key] = start;
            }
        }

        return rewritten.Count;
    }

    [GeneratedRegex(@"Wrote (?<key>\S+) \(\d+ events, \d+ bytes\) to (?<store>\S+)")]
    private static partial Regex WroteLine();
}
