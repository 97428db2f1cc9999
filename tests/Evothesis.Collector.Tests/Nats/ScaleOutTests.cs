using Evothesis.Collector.Tests.Support;
using Npgsql;

namespace Evothesis.Collector.Tests.Nats;

/// <summary>
/// The scaled-out topology with real processes on loopback: sample hosts as collectors publishing to a JetStream stream
/// (acknowledging a request once the stream stored its events), <c>nats-server</c> processes, and the loader writing the
/// stream to PostgreSQL. What docs/scaling-out.md promises, proved end to end.
/// </summary>
[TestFixture]
[NonParallelizable]
[CancelAfter(120_000)]
public sealed class ScaleOutTests
{
    private const string StreamName = "EVOTHESIS_EVENTS";

    private static readonly TimeSpan DrainDeadline = TimeSpan.FromSeconds(45);

    private TempDirectory _folder = null!;
    private string _connectionString = "";

    [SetUp]
    public async Task SetUp()
    {
        _folder = new TempDirectory();
        _connectionString = new NpgsqlConnectionStringBuilder(await PostgresTestServer.CreateDatabaseAsync()) { Pooling = false }.ConnectionString;
    }

    [TearDown]
    public void TearDown() => _folder.Dispose();

    [Test]
    public async Task TwoCollectorsOneLoader_ThreeNodeClusterWithThreeReplicas_EveryAcknowledgedEventIsInPostgreSqlOnce(CancellationToken cancellationToken)
    {
        await using var nats = await NatsTestCluster.StartAsync(3, cancellationToken);
        await using var first = Collector(nats, "c1");
        await using var second = Collector(nats, "c2");
        await using var loader = Loader(nats, "l1");
        await Task.WhenAll(first.StartAsync(cancellationToken), second.StartAsync(cancellationToken));
        loader.Start();
        await nats.WaitForStreamAsync(StreamName, cancellationToken);

        var load = new CollectLedger();
        using (var stop = new CancellationTokenSource(TimeSpan.FromSeconds(4)))
        {
            await Task.WhenAll(
                CollectLoad.SendAsync(first, load, "a", stop.Token, senders: 8),
                CollectLoad.SendAsync(second, load, "b", stop.Token, senders: 8));
        }

        var stored = await WaitForAsync(load.Acknowledged, () => Diagnostics(nats, loader, first, second), cancellationToken);
        load.Report(stored, "PostgreSQL");
        load.Statuses.Keys.Should().Equal([202], Diagnostics(nats, loader, first, second));
        load.Acknowledged.Count.Should().BeGreaterThan(300, "both collectors took load");
        load.Acknowledged.Should().Contain(id => id.StartsWith("a-", StringComparison.Ordinal)).And.Contain(id => id.StartsWith("b-", StringComparison.Ordinal));
        load.ShouldHoldEveryAcknowledgedEventOnce(stored, "PostgreSQL");
    }

    [Test]
    public async Task OneOfThreeNatsNodesKilledUnderLoad_NoNon2xx_AndEveryAcknowledgedEventIsInPostgreSqlOnce(CancellationToken cancellationToken)
    {
        await using var nats = await NatsTestCluster.StartAsync(3, cancellationToken);
        await using var first = Collector(nats, "c1");
        await using var second = Collector(nats, "c2");
        await using var loader = Loader(nats, "l1");
        await Task.WhenAll(first.StartAsync(cancellationToken), second.StartAsync(cancellationToken));
        loader.Start();
        await nats.WaitForStreamAsync(StreamName, cancellationToken);

        var load = new CollectLedger();
        int acknowledgedBeforeKill;
        using (var stop = new CancellationTokenSource())
        {
            var sending = Task.WhenAll(
                CollectLoad.SendAsync(first, load, "a", stop.Token, senders: 8),
                CollectLoad.SendAsync(second, load, "b", stop.Token, senders: 8));
            var started = System.Diagnostics.Stopwatch.StartNew();
            await WaitUntilAsync(() => Task.FromResult(load.Acknowledged.Count > 500), () => Diagnostics(nats, loader, first, second), cancellationToken);
            acknowledgedBeforeKill = load.Acknowledged.Count;
            TestContext.Out.WriteLine($"{acknowledgedBeforeKill} acknowledged after {started.Elapsed.TotalSeconds:F1} s");

            // The first node: every client's server list starts with it, so some connections are on it.
            nats.Kill(0);
            var killed = System.Diagnostics.Stopwatch.StartNew();

            // Publishes in flight on the lost node's connections wait for their timeout, and a stream whose leader it was
            // elects another one: acknowledgements pause for some seconds, then go on.
            await WaitUntilAsync(() => Task.FromResult(load.Acknowledged.Count > acknowledgedBeforeKill + 500), () => Diagnostics(nats, loader, first, second), cancellationToken);
            TestContext.Out.WriteLine($"500 more acknowledged {killed.Elapsed.TotalSeconds:F1} s after the kill");
            await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken);
            await stop.CancelAsync();
            await sending;
        }

        var stored = await WaitForAsync(load.Acknowledged, () => Diagnostics(nats, loader, first, second), cancellationToken);
        load.Report(stored, "PostgreSQL");
        TestContext.Out.WriteLine($"acknowledged before the kill: {acknowledgedBeforeKill}");
        load.Statuses.Keys.Should().Equal([202], "a cluster of three loses no write with one node gone\n" + Diagnostics(nats, loader, first, second));
        load.Failed.Should().Be(0, "every request was answered");
        load.ShouldHoldEveryAcknowledgedEventOnce(stored, "PostgreSQL");
    }

    [Test]
    public async Task LoaderKilledWhileLoading_StartedAgain_EveryAcknowledgedEventIsInPostgreSqlOnce(CancellationToken cancellationToken)
    {
        await using var nats = await NatsTestCluster.StartAsync(1, cancellationToken);
        await using var collector = Collector(nats, "c1");
        await using var loader = Loader(nats, "l1");
        await collector.StartAsync(cancellationToken);
        loader.Start();
        await nats.WaitForStreamAsync(StreamName, cancellationToken);

        var load = new CollectLedger();
        long storedAtKill;
        using (var stop = new CancellationTokenSource())
        {
            var sending = CollectLoad.SendAsync(collector, load, "k", stop.Token, senders: 16);
            await WaitUntilAsync(async () => await CountAsync() > 200, () => Diagnostics(nats, loader, collector), cancellationToken);

            // While it writes batches and acknowledges them: some written and not acknowledged, some fetched and not written.
            loader.Kill();
            storedAtKill = await CountAsync();
            await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken);
            loader.Start();
            await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken);
            await stop.CancelAsync();
            await sending;
        }

        var stored = await WaitForAsync(load.Acknowledged, () => Diagnostics(nats, loader, collector), cancellationToken);
        load.Report(stored, "PostgreSQL");
        TestContext.Out.WriteLine($"stored when the loader was killed: {storedAtKill}");
        storedAtKill.Should().BeLessThan(load.Acknowledged.Count, "the loader was killed before it had loaded everything");
        load.Statuses.Keys.Should().Equal([202]);
        load.ShouldHoldEveryAcknowledgedEventOnce(stored, "PostgreSQL");
    }

    private static string Diagnostics(NatsTestCluster nats, LoaderProcess loader, params SampleProcess[] collectors) =>
        $"loader:\n{Tail(loader.Output)}\n" +
        string.Join("\n", collectors.Select((c, i) => $"collector {i}:\n{Tail(c.Output)}")) +
        $"\nnats:\n{Tail(nats.Output, 4000)}";

    private static string Tail(string text, int length = 3000) => text.Length <= length ? text : text[^length..];

    private SampleProcess Collector(NatsTestCluster nats, string name) =>
        new(Path.Combine(_folder.Path, name), new Dictionary<string, string?>
        {
            ["Evothesis:Nats:Url"] = nats.Url,
            ["Evothesis:Nats:Replicas"] = nats.Size.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Evothesis:Batching:AckMode"] = "Committed",
        });

    private LoaderProcess Loader(NatsTestCluster nats, string name) =>
        new(Path.Combine(_folder.Path, name), new Dictionary<string, string?>
        {
            ["ConnectionStrings:Evothesis"] = _connectionString,
            ["Evothesis:Nats:Url"] = nats.Url,
            ["Evothesis:Nats:Replicas"] = nats.Size.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Evothesis:Nats:Loader:AckWait"] = "00:00:03",
            ["Evothesis:Nats:Loader:FetchWait"] = "00:00:02",
            ["Evothesis:Nats:Loader:BatchSize"] = "200",
        });

    private async Task<long> CountAsync()
    {
        try
        {
            await using var connection = new NpgsqlConnection(_connectionString);
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand("SELECT count(*) FROM events", connection);
            return (long)(await command.ExecuteScalarAsync())!;
        }
        catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.UndefinedTable)
        {
            return 0;
        }
    }

    private async Task<List<string>> ReadStoredAsync()
    {
        try
        {
            await using var connection = new NpgsqlConnection(_connectionString);
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand("SELECT event_id FROM events", connection);
            await using var reader = await command.ExecuteReaderAsync();
            var ids = new List<string>();
            while (await reader.ReadAsync())
            {
                ids.Add(reader.GetString(0));
            }

            return ids;
        }
        catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.UndefinedTable)
        {
            return [];
        }
    }

    // Until every acknowledged event is stored (or the deadline passes; the assertions then say what is missing).
    private async Task<List<string>> WaitForAsync(HashSet<string> acknowledged, Func<string> diagnostics, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + DrainDeadline;
        while (true)
        {
            var stored = await ReadStoredAsync();
            var distinct = stored.ToHashSet(StringComparer.Ordinal);
            if (acknowledged.All(distinct.Contains) || DateTime.UtcNow > deadline)
            {
                if (!acknowledged.All(distinct.Contains))
                {
                    TestContext.Out.WriteLine(diagnostics());
                }

                return stored;
            }

            await Task.Delay(200, cancellationToken);
        }
    }

    private static async Task WaitUntilAsync(Func<Task<bool>> condition, Func<string> diagnostics, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + DrainDeadline;
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail("The condition was not met in time.\n" + diagnostics());
            }

            await Task.Delay(50, cancellationToken);
        }
    }
}
