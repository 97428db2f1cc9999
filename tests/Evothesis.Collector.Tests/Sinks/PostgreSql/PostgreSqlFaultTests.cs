using System.Diagnostics;
using System.Net;
using Evothesis.Collector.Testing;
using Evothesis.Collector.Tests.Support;
using Npgsql;

namespace Evothesis.Collector.Tests.Sinks.PostgreSql;

/// <summary>
/// The sample host as a real OS process with the PostgreSQL sink, acknowledging durably, against a PostgreSQL server of
/// the fixture's own that is stopped, slowed down and fed a value it refuses, while the host is under load or killed.
/// </summary>
[TestFixture]
[NonParallelizable]
[CancelAfter(150_000)]
public sealed class PostgreSqlFaultTests
{
    private static readonly TimeSpan DrainDeadline = TimeSpan.FromSeconds(60);

    private PostgresServer _server = null!;
    private TempDirectory _storage = null!;
    private string _connectionString = "";

    // The test's own reads: unpooled, so that none trips over a connection the server's restart closed.
    private string _readConnectionString = "";

    [OneTimeSetUp]
    public async Task StartServer() => _server = await PostgresTestServer.StartDedicatedAsync();

    [OneTimeTearDown]
    public async Task StopServer() => await _server.DisposeAsync();

    [SetUp]
    public async Task SetUp()
    {
        await _server.StartAsync();
        _connectionString = await _server.CreateDatabaseAsync();
        _readConnectionString = new NpgsqlConnectionStringBuilder(_connectionString) { Pooling = false }.ConnectionString;
        _storage = new TempDirectory();
    }

    [TearDown]
    public void TearDown()
    {
        NpgsqlConnection.ClearAllPools();
        _storage.Dispose();
    }

    [Test]
    public async Task PostgreSqlStopped20SecondsUnderLoad_No503_AndAfterwardsEveryAcknowledgedEventIsStoredOnce(CancellationToken cancellationToken)
    {
        await using var host = StartHost(new Dictionary<string, string?>());
        await host.StartAsync(cancellationToken);
        var load = new CollectLedger();
        TimeSpan catchUp;
        using (var stop = new CancellationTokenSource())
        {
            var sending = SendAsync(host, load, "o", stop.Token);
            await Task.Delay(TimeSpan.FromSeconds(2), cancellationToken);
            var beforeOutage = (await ReadStoredAsync()).Count;

            // A fast shutdown: COPYs in flight are cut (SQLSTATE 57P01), new connections refused, for 20 seconds.
            await _server.StopAsync();
            var down = Stopwatch.StartNew();
            await Task.Delay(TimeSpan.FromSeconds(20), cancellationToken);
            var acknowledgedWhileDown = load.Acknowledged.Count;
            await _server.StartAsync();
            down.Stop();
            var back = Stopwatch.StartNew();

            await Task.Delay(TimeSpan.FromSeconds(2), cancellationToken);
            await stop.CancelAsync();
            await sending;

            var drained = await WaitForAsync(load.Acknowledged, cancellationToken);
            catchUp = back.Elapsed;
            TestContext.Out.WriteLine(
                $"stored before the outage: {beforeOutage}; down for {down.Elapsed.TotalSeconds:F1} s, acknowledged by then: {acknowledgedWhileDown}; " +
                $"every acknowledged event stored {catchUp.TotalSeconds:F1} s after PostgreSQL was back ({drained.Count} rows)");
        }

        var stored = await ReadStoredAsync();
        load.Report(stored);
        load.Statuses.Keys.Should().Equal([202], "an outage of PostgreSQL is not the visitors' problem while the spool has room");
        load.Failed.Should().Be(0, host.Output);
        load.Acknowledged.Count.Should().BeGreaterThan(1000, "the load ran through the outage");
        load.ShouldHoldEveryAcknowledgedEventOnce(stored, "PostgreSQL");
    }

    [Test]
    public async Task Kill9WhileDeliveringABacklog_Restarted_EveryAcknowledgedEventIsStoredOnce(CancellationToken cancellationToken)
    {
        // Small batches, each COPY slowed down by a trigger: the backlog takes seconds to deliver, so the kill lands in
        // the middle of it, with COPYs in flight and committed batches the spool's cursor does not know of yet.
        await using var host = StartHost(new Dictionary<string, string?>
        {
            ["Evothesis:PostgreSql:MaxBatchEvents"] = "200",
            ["Evothesis:Batching:BatchSize"] = "200",
        });
        await host.StartAsync(cancellationToken);
        await WaitForTableAsync(cancellationToken);
        await ExecuteAsync("""
            CREATE FUNCTION slow_copy() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_sleep(0.1); RETURN NULL; END $$;
            CREATE TRIGGER slow_copy AFTER INSERT ON events FOR EACH STATEMENT EXECUTE FUNCTION slow_copy();
            """);

        // The backlog: accepted (fsynced in the spool) while PostgreSQL is down.
        await _server.StopAsync();
        var load = new CollectLedger();
        using (var stop = new CancellationTokenSource())
        {
            var sending = SendAsync(host, load, "k", stop.Token);
            await Task.Delay(TimeSpan.FromSeconds(3), cancellationToken);
            await stop.CancelAsync();
            await sending;
        }

        var acknowledged = load.Acknowledged;
        await _server.StartAsync();
        int storedAtKill;
        var watch = Stopwatch.StartNew();
        while (true)
        {
            // A few batches in, so that the restart has both committed batches to skip and the rest to deliver.
            storedAtKill = await CountAsync();
            if (storedAtKill >= acknowledged.Count / 10 || watch.Elapsed > DrainDeadline)
            {
                break;
            }

            await Task.Delay(20, cancellationToken);
        }

        host.Kill();
        TestContext.Out.WriteLine($"killed with {storedAtKill} of {acknowledged.Count} acknowledged events stored");
        storedAtKill.Should().BeGreaterThan(0).And.BeLessThan(acknowledged.Count / 2, "the host was killed while it delivered the backlog");

        await host.StartAsync(cancellationToken);
        var stored = await WaitForAsync(acknowledged, cancellationToken);

        load.Report(stored);
        load.Statuses.Keys.Should().Equal([202]);
        load.ShouldHoldEveryAcknowledgedEventOnce(stored, "PostgreSQL");
    }

    [Test]
    public async Task PoisonValueAmongNormalTraffic_OthersAreStored_PoisonIsParkedAfterBoundedAttempts(CancellationToken cancellationToken)
    {
        const int ParkAfterAttempts = 3;
        await using var host = StartHost(new Dictionary<string, string?>
        {
            ["Evothesis:Batching:ParkAfterAttempts"] = ParkAfterAttempts.ToString(System.Globalization.CultureInfo.InvariantCulture),
        });
        await host.StartAsync(cancellationToken);

        // The collector accepts any string; a rule the database's owner added refuses this one (SQLSTATE 23514).
        await using (var connection = new NpgsqlConnection(_readConnectionString))
        {
            await connection.OpenAsync(cancellationToken);
            await using var command = new NpgsqlCommand(
                "ALTER TABLE events ADD CONSTRAINT events_no_poison CHECK (event_data->>'v' IS DISTINCT FROM 'poison-value')", connection);
            await command.ExecuteNonQueryAsync(cancellationToken);
        }

        var load = new CollectLedger();
        var poison = new List<string>();
        using (var stop = new CancellationTokenSource())
        {
            var sending = SendAsync(host, load, "n", stop.Token, senders: 4);
            using var client = new HttpClient { BaseAddress = host.BaseAddress };
            for (var i = 0; i < 3; i++)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(500), cancellationToken);
                string[] markers = [$"poison-{i}-0", $"poison-{i}-1"];
                using var response = await client.SendAsync(Request(markers, "\"v\":\"poison-value\""), cancellationToken);
                response.StatusCode.Should().Be(HttpStatusCode.Accepted, "the collector accepts the value: only PostgreSQL refuses it");
                poison.AddRange(markers);
            }

            await Task.Delay(TimeSpan.FromMilliseconds(500), cancellationToken);
            await stop.CancelAsync();
            await sending;
        }

        var stored = await WaitForAsync(load.Acknowledged, cancellationToken);
        var parked = Directory.GetFiles(Path.Combine(_storage.Path, "spool", "parked"), "*.parked", SearchOption.AllDirectories);
        var lines = host.Output.Split('\n');

        // The sink's own line (event 1504) per refused write; the consumer's lines quote the exception's message.
        var refusals = lines.Count(line => line.Contains("events for good (SQLSTATE 23514", StringComparison.Ordinal));
        var parkedLines = lines.Count(line => line.Contains("that sink postgresql:events refused for good", StringComparison.Ordinal));
        load.Report(stored);
        TestContext.Out.WriteLine($"PostgreSQL refused a write {refusals} time(s); parked files: {parked.Length}");

        load.ShouldHoldEveryAcknowledgedEventOnce(stored, "PostgreSQL");
        stored.Should().NotContain(poison, "the poison requests' events are parked whole, none stored");
        parked.Should().HaveCount(3, "each poison request is parked on its own, beside the spool");
        parkedLines.Should().Be(3);

        // A batch holding k poison requests is refused ParkAfterAttempts times, then each of its requests is written
        // alone: the k poison ones are refused once more and parked. No retry loop beyond that.
        refusals.Should().BeInRange(ParkAfterAttempts + 3, 3 * (ParkAfterAttempts + 1));
        host.Output.Should().NotContain("poison-value", "no log line quotes the value");
    }

    private SampleProcess StartHost(Dictionary<string, string?> settings)
    {
        var all = new Dictionary<string, string?>(StringComparer.Ordinal)
        {
            ["ConnectionStrings:Evothesis"] = _connectionString,
            ["Evothesis:Batching:AckMode"] = "Durable",

            // A test cannot wait for the default 30 s between two attempts of a sink that was down.
            ["Evothesis:Batching:RetryMaxDelay"] = "00:00:01",
            ["Evothesis:Batching:RetryBaseDelay"] = "00:00:00.050",
        };
        foreach (var (key, value) in settings)
        {
            all[key] = value;
        }

        return new SampleProcess(_storage.Path, all);
    }

    // The load of these tests: batches of 1 to 4 clicks whose markers (the ledger's ids) are in event_data.n, every
    // other one also the eventId: the per-day unique eventId and, for events without one, the row id both store once.
    private static Task SendAsync(SampleProcess host, CollectLedger ledger, string prefix, CancellationToken stop, int senders = 8) =>
        CollectLoad.SendAsync(host, ledger, prefix, stop, senders, request: markers => Request(markers, null));

    private static HttpRequestMessage Request(IReadOnlyList<string> markers, string? extraEventData)
    {
        var extra = extraEventData is null ? "" : "," + extraEventData;
        var events = string.Join(",", markers.Select((marker, i) => i % 2 == 0
            ? $$$"""{"eventType":"click","eventId":"{{{marker}}}","event_data":{"n":"{{{marker}}}"{{{extra}}}}}"""
            : $$$"""{"eventType":"click","event_data":{"n":"{{{marker}}}"{{{extra}}}}}"""));
        var request = new HttpRequestMessage(HttpMethod.Post, "collect")
        {
            Content = new StringContent($$"""{"eventType":"batch","sessionId":"load","events":[{{events}}]}""", System.Text.Encoding.UTF8, "application/json"),
        };
        request.Headers.Add("Origin", "http://localhost");
        return request;
    }

    // Until every expected event is stored and the table has not changed for a second, or the deadline.
    private async Task<List<string>> WaitForAsync(IReadOnlyCollection<string> expected, CancellationToken cancellationToken)
    {
        var deadline = Stopwatch.StartNew();
        var stable = Stopwatch.StartNew();
        var last = -1;
        while (true)
        {
            var stored = await ReadStoredAsync();
            if (stored.Count != last)
            {
                last = stored.Count;
                stable.Restart();
            }
            else if (stable.Elapsed >= TimeSpan.FromSeconds(1) && stored.ToHashSet(StringComparer.Ordinal).IsSupersetOf(expected))
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

    // One marker (event_data.n) per row. Empty while the table does not exist yet.
    private async Task<List<string>> ReadStoredAsync()
    {
        var stored = new List<string>();
        try
        {
            await using var connection = new NpgsqlConnection(_readConnectionString);
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand("SELECT event_data->>'n' FROM events", connection);
            await using var reader = await command.ExecuteReaderAsync();
            while (await reader.ReadAsync())
            {
                stored.Add(reader.GetString(0));
            }
        }
        catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.UndefinedTable)
        {
        }

        return stored;
    }

    private async Task<int> CountAsync() => (await ReadStoredAsync()).Count;

    private async Task WaitForTableAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            await using var connection = new NpgsqlConnection(_readConnectionString);
            await connection.OpenAsync(cancellationToken);
            await using var command = new NpgsqlCommand("SELECT to_regclass('events') IS NOT NULL", connection);
            if ((bool)(await command.ExecuteScalarAsync(cancellationToken))!)
            {
                return;
            }

            await Task.Delay(50, cancellationToken);
        }
    }

    private async Task ExecuteAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(_readConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }
}
