using Evothesis.Collector.Sinks.PostgreSql.Internal;
using Evothesis.Collector.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Evothesis.Collector.Tests.Sinks.PostgreSql;

public sealed class PostgreSqlSchemaManagerTests
{
    private static readonly DateTimeOffset Now = new(2027, 2, 27, 22, 15, 0, TimeSpan.Zero);
    private FakeTimeProvider _time = null!;

    // NUnit runs every test on one fixture instance: each test gets its own clock, as some advance it.
    [SetUp]
    public void SetUp() => _time = new FakeTimeProvider(Now);

    [Test]
    public async Task MaintainAsync_FreshDatabase_CreatesTablesAndPartitionsForTodayAndTheDaysAhead()
    {
        await using var host = await CreateHostAsync(o => o.PartitionsAhead = 3);

        await host.Schema.MaintainAsync(CancellationToken.None);

        (await PartitionsAsync(host)).Should().Equal("events_p20270227", "events_p20270228", "events_p20270301", "events_p20270302");
        (await host.QueryAsync<string>("SELECT indexname FROM pg_indexes WHERE tablename = 'events_p20270228' ORDER BY indexname"))
            .Should().Contain("events_p20270228_event_id_key");
        (await host.QueryAsync<string>(
            "SELECT pg_get_expr(c.relpartbound, c.oid) FROM pg_class c WHERE c.relname = 'events_p20270228'"))
            .Should().Equal("FOR VALUES FROM ('2027-02-28 00:00:00+00') TO ('2027-03-01 00:00:00+00')");
        (await host.CountAsync("pg_tables", "tablename = 'audit_log'")).Should().Be(1);
    }

    [Test]
    public async Task MaintainAsync_RunAgainAndByAnotherInstance_ChangesNothing()
    {
        await using var host = await CreateHostAsync();
        await host.Schema.MaintainAsync(CancellationToken.None);
        await host.Sink.WriteAsync(TestEvents.Batch(TestEvents.Create(receivedAt: Now)), CancellationToken.None);
        var before = await SchemaSnapshotAsync(host);

        await host.Schema.MaintainAsync(CancellationToken.None);
        await using var second = PostgreSqlTestHost.Create(host.ConnectionString, services: s => s.AddSingleton<TimeProvider>(_time));
        await Task.WhenAll(second.Schema.MaintainAsync(CancellationToken.None), Task.Run(() => second.Schema.MaintainAsync(CancellationToken.None)));

        (await SchemaSnapshotAsync(host)).Should().Equal(before);
        (await host.CountAsync()).Should().Be(1);
    }

    [Test]
    public async Task MaintainAsync_NextDay_AddsThePartitionThatIsNowAhead()
    {
        await using var host = await CreateHostAsync(o => o.PartitionsAhead = 1);
        await host.Schema.MaintainAsync(CancellationToken.None);

        _time.Advance(TimeSpan.FromDays(1));
        await host.Schema.MaintainAsync(CancellationToken.None);

        (await PartitionsAsync(host)).Should().Equal("events_p20270227", "events_p20270228", "events_p20270301");
    }

    [Test]
    public async Task MaintainAsync_RetentionDays_DropsThePartitionsOfOlderDaysOnly()
    {
        await using var host = await CreateHostAsync(o => (o.PartitionsAhead, o.RetentionDays) = (1, 3));
        await host.Schema.EnsureTablesAsync(CancellationToken.None);
        await host.Schema.EnsurePartitionsAsync([new DateOnly(2027, 2, 20), new DateOnly(2027, 2, 24), new DateOnly(2027, 2, 25)], CancellationToken.None);
        await host.Sink.WriteAsync(TestEvents.Batch(TestEvents.Create(receivedAt: new DateTimeOffset(2027, 2, 24, 12, 0, 0, TimeSpan.Zero))), CancellationToken.None);
        await host.Sink.WriteAsync(TestEvents.Batch(TestEvents.Create(receivedAt: new DateTimeOffset(2027, 2, 25, 0, 0, 0, TimeSpan.Zero))), CancellationToken.None);
        await host.ExecuteAsync("CREATE TABLE events_archive PARTITION OF events FOR VALUES FROM ('2020-01-01') TO ('2020-01-02')");

        await host.Schema.MaintainAsync(CancellationToken.None);

        // Today is 2027-02-27: the last 3 days are the 25th to the 27th. A table the collector did not name stays.
        (await PartitionsAsync(host)).Should().Equal("events_archive", "events_p20270225", "events_p20270227", "events_p20270228");
        (await host.CountAsync()).Should().Be(1);
        host.Logs.GetSnapshot().Where(r => r.Id.Id == 1507).Select(r => r.Message).Should().BeEquivalentTo(
            "Dropped PostgreSQL partition events_p20270220: older than the 3 days kept",
            "Dropped PostgreSQL partition events_p20270224: older than the 3 days kept");

        // A late write for a dropped day recreates its partition; the next maintenance drops it again.
        await host.Sink.WriteAsync(TestEvents.Batch(TestEvents.Create(receivedAt: new DateTimeOffset(2027, 2, 24, 13, 0, 0, TimeSpan.Zero))), CancellationToken.None);
        (await PartitionsAsync(host)).Should().Contain("events_p20270224");
        await host.Schema.MaintainAsync(CancellationToken.None);
        (await PartitionsAsync(host)).Should().NotContain("events_p20270224");
    }

    [Test]
    public async Task MaintainAsync_DdlBehindALongQuery_GivesUpInsteadOfBlockingWrites()
    {
        await using var host = await CreateHostAsync(o => (o.PartitionsAhead, o.RetentionDays) = (1, 3));
        await host.Schema.EnsureTablesAsync(CancellationToken.None);
        await host.Schema.EnsurePartitionsAsync([new DateOnly(2027, 2, 20), new DateOnly(2027, 2, 27), new DateOnly(2027, 2, 28)], CancellationToken.None);
        await using var reader = new Npgsql.NpgsqlConnection(host.ConnectionString);
        await reader.OpenAsync();
        await using var query = await reader.BeginTransactionAsync();
        await using (var select = new Npgsql.NpgsqlCommand("SELECT count(*) FROM events", reader, query))
        {
            await select.ExecuteScalarAsync();
        }

        var maintain = () => host.Schema.MaintainAsync(CancellationToken.None);

        // lock_not_available after the lock timeout, rather than queueing (and every COPY behind it) until the query ends.
        (await maintain.Should().ThrowAsync<Npgsql.PostgresException>()).Which.SqlState.Should().Be(Npgsql.PostgresErrorCodes.LockNotAvailable);
        await host.Sink.WriteAsync(TestEvents.Batch(TestEvents.Create(receivedAt: Now)), CancellationToken.None);
        await query.CommitAsync();
        await host.Schema.MaintainAsync(CancellationToken.None);
        (await PartitionsAsync(host)).Should().NotContain("events_p20270220");
    }

    [Test]
    public async Task MaintainAsync_CreateSchemaOff_CreatesNoTables()
    {
        await using var host = await CreateHostAsync(o => { o.CreateSchema = false; o.ManagePartitions = false; });

        await host.Schema.MaintainAsync(CancellationToken.None);

        (await host.CountAsync("pg_tables", "schemaname = 'public'")).Should().Be(0);
    }

    [Test]
    public async Task WriteAsync_CreateSchemaOffOnTheDocumentedDdl_Works()
    {
        await using var host = await CreateHostAsync(o => o.CreateSchema = false);
        await host.ExecuteAsync(await File.ReadAllTextAsync(DocumentedDdlPath()));

        await host.Sink.WriteAsync(TestEvents.Batch(TestEvents.Create(receivedAt: Now, eventId: "e-1")), CancellationToken.None);
        await host.Sink.WriteAsync(TestEvents.Batch(TestEvents.Create(receivedAt: Now, eventId: "e-1")), CancellationToken.None);

        (await host.CountAsync()).Should().Be(1);
    }

    [Test]
    public async Task MaintainAsync_CustomSchemaAndTables_CreatesThemThere()
    {
        await using var host = await CreateHostAsync(o => { o.Schema = "analytics"; o.EventsTable = "collected"; o.AuditTable = "audit"; });

        await host.Sink.WriteAsync(TestEvents.Batch(TestEvents.Create(receivedAt: Now)), CancellationToken.None);

        (await host.CountAsync("analytics.collected")).Should().Be(1);
        (await host.CountAsync("pg_tables", "schemaname = 'analytics' AND tablename IN ('collected_p20270227', 'audit')")).Should().Be(2);
    }

    [Test]
    public void DocumentedDdl_MatchesTheDdlTheCollectorRuns()
    {
        var documented = File.ReadAllText(DocumentedDdlPath());
        var schema = new PostgreSqlSchema("public", "events", "audit_log");

        documented.Should().Contain(schema.CreateTablesScript());
        documented.Should().Contain(schema.CreatePartitionScript(new DateOnly(2026, 11, 26)));
    }

    private static string DocumentedDdlPath()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "Evothesis.Collector.sln")))
        {
            directory = directory.Parent;
        }

        return Path.Combine(directory!.FullName, "docs", "postgresql-schema.sql");
    }

    private static Task<List<string>> PartitionsAsync(PostgreSqlTestHost host) =>
        host.QueryAsync<string>("SELECT c.relname::text FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'events'::regclass ORDER BY 1");

    private static Task<List<string>> SchemaSnapshotAsync(PostgreSqlTestHost host) =>
        host.QueryAsync<string>(
            "SELECT c.relkind::text || ' ' || n.nspname || '.' || c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace " +
            "WHERE n.nspname = 'public' ORDER BY 1");

    private async Task<PostgreSqlTestHost> CreateHostAsync(Action<Evothesis.Collector.Sinks.PostgreSql.PostgreSqlSinkOptions>? configure = null) =>
        await PostgreSqlTestHost.CreateAsync(configure, s => s.AddSingleton<TimeProvider>(_time));
}
