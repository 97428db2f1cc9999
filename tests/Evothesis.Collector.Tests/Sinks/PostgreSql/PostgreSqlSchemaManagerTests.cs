using Evothesis.Collector.Sinks.PostgreSql.Internal;
using Evothesis.Collector.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Evothesis.Collector.Tests.Sinks.PostgreSql;

public sealed class PostgreSqlSchemaManagerTests
{
    private static readonly DateTimeOffset Now = new(2027, 2, 27, 22, 15, 0, TimeSpan.Zero);
    private readonly FakeTimeProvider _time = new(Now);

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
