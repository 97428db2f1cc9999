using System.Globalization;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Exporters.Json;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using Evothesis.Collector.Batching;
using Evothesis.Collector.Diagnostics;
using Evothesis.Collector.Events;
using Evothesis.Collector.Spool;
using Evothesis.Collector.Spool.Internal;
using Microsoft.Extensions.Logging.Abstractions;
using Evothesis.Collector.Sinks;
using Evothesis.Collector.Sinks.PostgreSql;
using Evothesis.Collector.Sinks.PostgreSql.Internal;
using Evothesis.Collector.Testing;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using NpgsqlTypes;

namespace Evothesis.Collector.Benchmarks;

/// <summary>
/// The batching gain of the PostgreSQL sink against a real server, by batch size: the sink's write of one batch, the raw
/// binary COPY ceiling, COPY into a table without the idempotency keys, and the staging-table design. One operation
/// writes <see cref="BatchSize"/> new events; events/s and bytes allocated per event are in their own columns. The
/// per-event baseline is <see cref="PostgreSqlPerEventInsertBenchmarks"/>, several batches at once
/// <see cref="PostgreSqlInFlightBenchmarks"/>.
/// </summary>
/// <remarks>
/// Uses the server in <c>EVOTHESIS_BENCH_POSTGRES</c> (a connection string; a new database is created per case)
/// or starts a throw-away one per case, with <c>synchronous_commit=on</c>: every commit waits for its WAL flush.
/// </remarks>
[Config(typeof(Config))]
[MemoryDiagnoser]
public class PostgreSqlSinkBenchmarks : PostgreSqlBenchmarkBase
{
    [Params(1, 10, 100, 500, 1000, 5000)]
    public override int BatchSize { get => base.BatchSize; set => base.BatchSize = value; }

    /// <summary>
    /// What the collector does: the sink's write with its default options (one COPY into the keyed table in one
    /// transaction).
    /// </summary>
    [Benchmark]
    public ValueTask SinkWrite() => Sink.WriteAsync(NextBatch(), CancellationToken.None);

    /// <summary>
    /// The ceiling: a bare binary COPY of the same rows into the same table on one connection, with no transaction or
    /// checks around it.
    /// </summary>
    [Benchmark]
    public Task RawCopy() => BareCopyAsync(CopyIntoEvents);

    /// <summary>Bare COPY into the same table without the primary key and the per-day unique index: no idempotency at all.</summary>
    [Benchmark]
    public Task PlainCopy() => BareCopyAsync(CopyIntoPlain);

    /// <summary>
    /// The other idempotent design: every batch through a temporary table and <c>INSERT ... ON CONFLICT DO NOTHING</c>
    /// (the sink's careful path, taken for every batch).
    /// </summary>
    [Benchmark]
    public async Task StagingUpsert()
    {
        await using var connection = await DataSource.OpenConnectionAsync();
        await Writer.WriteCarefullyAsync(connection, NextBatch().Events, CancellationToken.None);
    }

    /// <summary>Only the creation of the events every other line includes: subtract its allocations to get the write path's.</summary>
    [Benchmark]
    public int CreateEvents() => NextBatch().Count;

    /// <summary>A retry of a batch that is already stored: every event a duplicate, so the careful path runs.</summary>
    [Benchmark]
    public ValueTask SinkRewrite() => Sink.WriteAsync(StoredBatch, CancellationToken.None);

    private async Task BareCopyAsync(string copyCommand)
    {
        var events = NextBatch().Events;
        await using var connection = await DataSource.OpenConnectionAsync();
        await PostgreSqlEventWriter.CopyAsync(connection, copyCommand, events, 0, events.Count, CancellationToken.None);
    }

    private sealed class Config : BenchmarkConfig
    {
        public Config()
            : base(warmupCount: 3, iterationCount: 10)
        {
        }
    }
}

/// <summary>
/// The baseline of <see cref="PostgreSqlSinkBenchmarks"/>: one autocommit INSERT per event, written as a careful engineer
/// would: one connection opened once, one prepared statement, only the parameters' values set per event, the server's
/// default <c>synchronous_commit</c> (on: every commit waits for its WAL flush). Sequentially, and from 32 connections at
/// once (each with its own prepared statement, the events shared out), as 32 request threads would. Its cost per
/// event does not depend on a batch size, so one operation is a fixed 2000 events.
/// </summary>
[Config(typeof(Config))]
[MemoryDiagnoser]
public class PostgreSqlPerEventInsertBenchmarks : PostgreSqlBenchmarkBase
{
    private const int Connections = 32;

    private readonly List<PreparedInsert> _inserts = [];

    [Params(2000)]
    public override int BatchSize { get => base.BatchSize; set => base.BatchSize = value; }

    [GlobalSetup(Targets = [nameof(PerEventInsert), nameof(PerEventInsert32Connections)])]
    public async Task SetupInsertsAsync()
    {
        await SetupAsync();
        for (var i = 0; i < Connections; i++)
        {
            _inserts.Add(await PreparedInsert.OpenAsync(DataSource, Insert));
        }
    }

    [GlobalCleanup(Targets = [nameof(PerEventInsert), nameof(PerEventInsert32Connections)])]
    public async Task CleanupInsertsAsync()
    {
        foreach (var insert in _inserts)
        {
            await insert.DisposeAsync();
        }

        await CleanupAsync();
    }

    /// <summary>One connection, one prepared INSERT, one transaction and WAL flush per event.</summary>
    [Benchmark]
    public async Task PerEventInsert()
    {
        var insert = _inserts[0];
        foreach (var e in NextBatch().Events)
        {
            await insert.ExecuteAsync(e);
        }
    }

    /// <summary>The same from 32 connections at once: the server can then share WAL flushes between commits.</summary>
    [Benchmark]
    public async Task PerEventInsert32Connections()
    {
        var events = NextBatch().Events;
        await Task.WhenAll(_inserts.Select((insert, c) => Task.Run(async () =>
        {
            for (var i = c; i < events.Count; i += Connections)
            {
                await insert.ExecuteAsync(events[i]);
            }
        })));
    }

    private sealed class PreparedInsert : IAsyncDisposable
    {
        private readonly NpgsqlConnection _connection;
        private readonly NpgsqlCommand _command;
        private readonly NpgsqlParameter<Guid> _id = new() { NpgsqlDbType = NpgsqlDbType.Uuid };
        private readonly NpgsqlParameter[] _texts = [.. Enumerable.Range(0, 7).Select(_ => new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Text })];
        private readonly NpgsqlParameter<DateTimeOffset> _eventTime = new() { NpgsqlDbType = NpgsqlDbType.TimestampTz };
        private readonly NpgsqlParameter<DateTimeOffset> _receivedAt = new() { NpgsqlDbType = NpgsqlDbType.TimestampTz };
        private readonly NpgsqlParameter[] _json = [.. Enumerable.Range(0, 4).Select(_ => new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Jsonb })];

        private PreparedInsert(NpgsqlConnection connection, string sql)
        {
            _connection = connection;
            _command = new NpgsqlCommand(sql, connection);
            var p = _command.Parameters;
            p.Add(_id);
            p.Add(_texts[0]); // event_id
            p.Add(_texts[1]); // client_id
            p.Add(_texts[2]); // site_id
            p.Add(_texts[3]); // session_id
            p.Add(_texts[4]); // event_type
            p.Add(_eventTime);
            p.Add(_texts[5]); // client_timestamp
            p.Add(_receivedAt);
            p.Add(_json[0]);
            p.Add(_json[1]);
            p.Add(_json[2]);
            p.Add(_json[3]);
            p.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Text }); // ip
            p.Add(_texts[6]); // user_agent
        }

        public static async Task<PreparedInsert> OpenAsync(NpgsqlDataSource dataSource, string sql)
        {
            var insert = new PreparedInsert(await dataSource.OpenConnectionAsync(), sql);
            foreach (NpgsqlParameter parameter in insert._command.Parameters)
            {
                parameter.Value ??= DBNull.Value;
            }

            await insert._command.PrepareAsync();
            return insert;
        }

        public async Task ExecuteAsync(CollectedEvent e)
        {
            _id.TypedValue = e.Id;
            _texts[0].Value = (object?)e.EventId ?? DBNull.Value;
            _texts[1].Value = e.ClientId;
            _texts[2].Value = e.SiteId;
            _texts[3].Value = (object?)e.SessionId ?? DBNull.Value;
            _texts[4].Value = e.EventType;
            _eventTime.TypedValue = e.Timestamp;
            _texts[5].Value = (object?)e.ClientTimestamp ?? DBNull.Value;
            _receivedAt.TypedValue = e.ReceivedAt;
            Json(_json[0], e.PageData);
            Json(_json[1], e.EventData);
            Json(_json[2], e.CustomData);
            Json(_json[3], e.Consent);
            _command.Parameters[13].Value = (object?)e.Ip ?? DBNull.Value;
            _texts[6].Value = (object?)e.UserAgent ?? DBNull.Value;
            await _command.ExecuteNonQueryAsync();
        }

        public async ValueTask DisposeAsync()
        {
            await _command.DisposeAsync();
            await _connection.DisposeAsync();
        }

        private static void Json(NpgsqlParameter parameter, RawJson value) =>
            parameter.Value = value.IsNull ? DBNull.Value : value.Utf8.ToArray();
    }

    private sealed class Config : BenchmarkConfig
    {
        public Config()
            : base(warmupCount: 1, iterationCount: 5)
        {
        }
    }
}

/// <summary>
/// Several batches written at once, each with its own COPY and transaction on its own connection, as the spool consumer
/// does with <c>MaxInFlight</c> above 1, against as many raw COPYs at once. One operation is <see cref="InFlight"/>
/// batches of <see cref="BatchSize"/> events (the events/s column counts them all).
/// </summary>
[Config(typeof(Config))]
[MemoryDiagnoser]
public class PostgreSqlInFlightBenchmarks : PostgreSqlBenchmarkBase
{
    [Params(1000)]
    public override int BatchSize { get => base.BatchSize; set => base.BatchSize = value; }

    [Params(1, 2, 4, 8)]
    public int InFlight { get; set; }

    /// <summary><see cref="InFlight"/> sink writes started together.</summary>
    [Benchmark]
    public async Task SinkWritesInFlight()
    {
        var writes = new Task[InFlight];
        for (var i = 0; i < writes.Length; i++)
        {
            var batch = NextBatch();
            writes[i] = Task.Run(() => Sink.WriteAsync(batch, CancellationToken.None).AsTask());
        }

        await Task.WhenAll(writes);
    }

    /// <summary><see cref="InFlight"/> bare COPYs of as many batches into the same table at once: the ceiling.</summary>
    [Benchmark]
    public async Task RawCopiesInFlight()
    {
        var copies = new Task[InFlight];
        for (var i = 0; i < copies.Length; i++)
        {
            var events = NextBatch().Events;
            copies[i] = Task.Run(async () =>
            {
                await using var connection = await DataSource.OpenConnectionAsync();
                await PostgreSqlEventWriter.CopyAsync(connection, CopyIntoEvents, events, 0, events.Count, CancellationToken.None);
            });
        }

        await Task.WhenAll(copies);
    }

    private sealed class Config : BenchmarkConfig
    {
        public Config()
            : base(warmupCount: 3, iterationCount: 10)
        {
        }
    }
}

/// <summary>
/// The spool consumer of the PostgreSQL sink at its default settings, delivering a backlog: <see cref="BatchSize"/>
/// events in requests of 10, accepted (fsynced in the spool) before the consumer starts, as after an outage or under a
/// load it cannot keep up with. One operation is the whole backlog, from the consumer's start until its cursor has
/// passed the last record; the sink's batches are what is waiting, up to its <c>MaxBatchEvents</c>, and
/// <see cref="MaxInFlight"/> of them are written at once (the default is 4).
/// </summary>
[Config(typeof(Config))]
[MemoryDiagnoser]
public class PostgreSqlConsumerBenchmarks : PostgreSqlBenchmarkBase
{
    private const int EventsPerRequest = 10;

    private TempFolder? _storage;
    private ServiceProvider? _collector;
    private EventBatcher? _batcher;
    private long _end;

    [Params(50_000)]
    public override int BatchSize { get => base.BatchSize; set => base.BatchSize = value; }

    [Params(1, 2, 4, 8)]
    public int MaxInFlight { get; set; }

    [IterationSetup]
    public void WriteBacklog()
    {
        _storage = new TempFolder();
        var events = NextBatch().Events;
        var spoolPath = Path.Combine(_storage.Path, SpoolOptions.DefaultFolderName);
        using var meters = new NoMeters();
        var names = EventBatcher.ConsumerNames([Sink]).Append(EventBatcher.AuditConsumerName).ToArray();
        var spool = WriteAheadSpool.Open(
            spoolPath, new SpoolOptions { MinFreeDiskBytes = 0 }, names, TimeProvider.System,
            new SpoolMetrics(new CollectorMetrics(meters)), NullLogger.Instance);
        SpoolAppendResult last = default;
        for (var i = 0; i < events.Count; i += EventsPerRequest)
        {
            last = spool.Append(SpoolEventCodec.Encode([.. events.Skip(i).Take(EventsPerRequest)], audit: null));
        }

        last.Durable.GetAwaiter().GetResult();
        _end = last.EndPosition;
        spool.DisposeAsync().AsTask().GetAwaiter().GetResult();

        // The collector as a host would build it, on that spool, with the sink's defaults but MaxInFlight.
        var services = new ServiceCollection();
        services.AddEvothesisCollector(o => o.Storage.Path = _storage.Path)
            .AddPostgreSqlSink(ConnectionString, o => o.MaxInFlight = MaxInFlight);
        _collector = services.BuildServiceProvider();
        _batcher = _collector.GetRequiredService<EventBatcher>();
    }

    [Benchmark]
    public async Task SpoolConsumer()
    {
        var consumer = _batcher!.Consumers[0];
        var passed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        consumer.CommittedTo += (_, position) =>
        {
            if (position >= _end)
            {
                passed.TrySetResult();
            }
        };
        _batcher.Start();
        await passed.Task.WaitAsync(TimeSpan.FromMinutes(5));
    }

    [IterationCleanup]
    public void StopCollector()
    {
        _collector!.DisposeAsync().AsTask().GetAwaiter().GetResult();
        _storage!.Dispose();
    }

    private sealed class Config : BenchmarkConfig
    {
        public Config()
            : base(warmupCount: 1, iterationCount: 5, invocationCount: 1)
        {
        }
    }

    private sealed class NoMeters : System.Diagnostics.Metrics.IMeterFactory
    {
        private readonly List<System.Diagnostics.Metrics.Meter> _meters = [];

        public System.Diagnostics.Metrics.Meter Create(System.Diagnostics.Metrics.MeterOptions options)
        {
            var meter = new System.Diagnostics.Metrics.Meter(options);
            _meters.Add(meter);
            return meter;
        }

        public void Dispose() => _meters.ForEach(m => m.Dispose());
    }

    private sealed class TempFolder : IDisposable
    {
        public string Path { get; } = Directory.CreateTempSubdirectory("evothesis-bench-").FullName;

        public void Dispose() => Directory.Delete(Path, recursive: true);
    }
}

/// <summary>
/// Set-up shared by the PostgreSQL benchmarks: a server (<c>EVOTHESIS_BENCH_POSTGRES</c>, else a throw-away one per
/// case), a new database with the collector's schema, a copy of the events table without idempotency keys, and
/// new events for every operation.
/// </summary>
public abstract class PostgreSqlBenchmarkBase
{
    public const string ConnectionVariable = "EVOTHESIS_BENCH_POSTGRES";

    private const string PlainTable = "events_plain";

    // Production-like durability; only WAL sizing differs from the defaults, so checkpoints do not land in
    // some cases and not others.
    private static readonly Dictionary<string, string> ServerSettings = new()
    {
        ["synchronous_commit"] = "on",
        ["fsync"] = "on",
        ["shared_buffers"] = "256MB",
        ["max_wal_size"] = "4GB",
    };

    private PostgresServer? _server;
    private string _adminConnectionString = "";
    private string _database = "";
    private ServiceProvider _services = null!;
    private protected PostgreSqlEventSink Sink { get; private set; } = null!;
    private protected PostgreSqlEventWriter Writer { get; private set; } = null!;
    protected NpgsqlDataSource DataSource { get; private set; } = null!;

    /// <summary>Gets the connection string of the case's database.</summary>
    protected string ConnectionString { get; private set; } = "";
    protected string Insert { get; private set; } = "";
    protected string CopyIntoEvents { get; private set; } = "";
    protected string CopyIntoPlain { get; private set; } = "";
    protected EventBatch StoredBatch { get; private set; } = null!;
    private long _next;

    /// <summary>Gets or sets the events per operation; each suite names its values with <c>[Params]</c> on its override.</summary>
    public virtual int BatchSize { get; set; }

    [GlobalSetup]
    public async Task SetupAsync()
    {
        var external = Environment.GetEnvironmentVariable(ConnectionVariable);
        if (string.IsNullOrWhiteSpace(external))
        {
            _server = await PostgresServer.StartNewAsync(ServerSettings);
            _adminConnectionString = _server.ConnectionString();
        }
        else
        {
            _adminConnectionString = external;
        }

        _database = "bench_" + Guid.NewGuid().ToString("N")[..12];
        await using (var admin = NpgsqlDataSource.Create(_adminConnectionString))
        {
            await using var create = admin.CreateCommand($"CREATE DATABASE {_database}");
            await create.ExecuteNonQueryAsync();
        }

        var connectionString = new NpgsqlConnectionStringBuilder(_adminConnectionString) { Database = _database }.ConnectionString;
        ConnectionString = connectionString;
        var services = new ServiceCollection();
        services.AddEvothesisCollector().AddPostgreSqlSink(connectionString);
        _services = services.BuildServiceProvider();
        Sink = _services.GetServices<IEventSink>().OfType<PostgreSqlEventSink>().Single();
        var schema = _services.GetRequiredService<PostgreSqlSchemaManager>();
        await schema.MaintainAsync(CancellationToken.None);
        Writer = new PostgreSqlEventWriter(schema.Schema);
        DataSource = _services.GetRequiredService<PostgreSqlConnectionSource>().DataSource;

        // The same table without the idempotency keys: no primary key, no unique index per partition.
        var today = PostgreSqlSchema.DayOf(DateTimeOffset.UtcNow);
        await ExecuteAsync($"""
            CREATE TABLE {PlainTable} (LIKE events) PARTITION BY RANGE (received_at);
            CREATE INDEX ON {PlainTable} (client_id, received_at);
            CREATE TABLE {PlainTable}_today PARTITION OF {PlainTable}
                FOR VALUES FROM ('{today:yyyy-MM-dd} 00:00:00+00') TO ('{today.AddDays(1):yyyy-MM-dd} 00:00:00+00');
            """);

        Insert = $"INSERT INTO events ({PostgreSqlSchema.EventColumns}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)";
        CopyIntoEvents = PostgreSqlSchema.CopyEventsCommand(schema.Schema.Events);
        CopyIntoPlain = PostgreSqlSchema.CopyEventsCommand(PlainTable);

        StoredBatch = NextBatch();
        await Sink.WriteAsync(StoredBatch, CancellationToken.None);
    }

    [GlobalCleanup]
    public async Task CleanupAsync()
    {
        await _services.DisposeAsync();
        NpgsqlConnection.ClearAllPools();
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
        else
        {
            await using var admin = NpgsqlDataSource.Create(_adminConnectionString);
            await using var drop = admin.CreateCommand($"DROP DATABASE {_database} WITH (FORCE)");
            await drop.ExecuteNonQueryAsync();
        }
    }

    private async Task ExecuteAsync(string sql)
    {
        await using var command = DataSource.CreateCommand(sql);
        await command.ExecuteNonQueryAsync();
    }

    // New events for every operation, as new requests bring: fresh ids and eventIds, shared payloads. The shape is
    // what the tracking script sends: a UUIDv7 eventId (made when the event happened), a UUID sessionId (20 events per
    // session), page_data with url,
    // path, title and referrer, event_data on every event (the pageview's viewport and language, a click's element,
    // a scroll depth), consent "granted" on half of the events (the script sends it only once the visitor granted
    // it), no custom fields (sent only when the page configures custom_fields), and the hashed IP of a gdpr client.
    protected EventBatch NextBatch()
    {
        var now = DateTimeOffset.UtcNow;
        now = new DateTimeOffset(now.UtcTicks - (now.UtcTicks % 10), TimeSpan.Zero);
        var events = new CollectedEvent[BatchSize];
        for (var i = 0; i < events.Length; i++)
        {
            var n = Interlocked.Increment(ref _next);
            var kind = n % 4;
            events[i] = new CollectedEvent
            {
                Id = Guid.CreateVersion7(now),
                EventId = Guid.CreateVersion7(now.AddMilliseconds(-850)).ToString(),
                EventType = kind switch { 0 => "click", 1 => "scroll", _ => "pageview" },
                ClientId = (n % 3) == 0 ? "client_acme_corp" : "client_test",
                SiteId = "shop.acme.com",
                SessionId = Payloads.Sessions[(int)((n / 20) % Payloads.Sessions.Length)],
                Timestamp = now.AddMilliseconds(-850),
                ClientTimestamp = "2026-11-26T11:59:58.123Z",
                ReceivedAt = now,
                PageData = Payloads.Page,
                EventData = kind switch { 0 => Payloads.Click, 1 => Payloads.Scroll, _ => Payloads.View },
                CustomData = RawJson.Null,
                Consent = (n % 2) == 0 ? Payloads.Granted : RawJson.Null,
                Ip = Payloads.IpHash,
                UserAgent = Payloads.UserAgent,
            };
        }

        return new EventBatch(Guid.CreateVersion7(now), now, events);
    }

    private static class Payloads
    {
        public static readonly RawJson Page = RawJson.Parse(
            """{"url":"https://shop.acme.com/catalog/shoes?utm_source=newsletter","path":"/catalog/shoes","title":"Running shoes - Catalog","referrer":"https://www.google.com/"}""");

        public static readonly RawJson View = RawJson.Parse("""{"viewport":"1440x900","language":"en-US"}""");

        public static readonly RawJson Click = RawJson.Parse(
            """{"element":"button","id":"add-to-cart","classes":"btn btn-primary","text":"Add to cart"}""");

        public static readonly RawJson Scroll = RawJson.Parse("""{"depth":50}""");

        public static readonly RawJson Granted = RawJson.Parse("\"granted\"");

        public static readonly string[] Sessions = [.. Enumerable.Range(0, 1000).Select(_ => Guid.NewGuid().ToString())];

        public const string IpHash = "5f2b9c1e8a7d4c3b2a1908f7e6d5c4b3a29180f7e6d5c4b3a2918f7e6d5c4b3a";

        public const string UserAgent = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";
    }

    /// <summary>The PostgreSQL benchmarks' job; <c>EVOTHESIS_BENCH_QUICK=1</c> makes it a one-iteration smoke run.</summary>
    protected class BenchmarkConfig : ManualConfig
    {
        protected BenchmarkConfig(int warmupCount, int iterationCount, int? invocationCount = null)
        {
            var quick = Environment.GetEnvironmentVariable("EVOTHESIS_BENCH_QUICK") == "1";
            var job = quick
                ? Job.Dry
                : Job.Default
                    .WithWarmupCount(warmupCount)
                    .WithIterationCount(iterationCount)
                    .WithIterationTime(Perfolizer.Horology.TimeInterval.FromMilliseconds(300));

            // An operation that needs its own set-up ([IterationSetup]) runs once per iteration.
            if (invocationCount is { } invocations)
            {
                job = job.WithInvocationCount(invocations).WithUnrollFactor(1);
            }

            AddJob(job.WithId("PostgreSql"));
            AddColumn(new EventsPerSecondColumn(), new AllocatedPerEventColumn());
            AddExporter(JsonExporter.Full);
            WithOrderer(new BenchmarkDotNet.Order.DefaultOrderer(BenchmarkDotNet.Order.SummaryOrderPolicy.Declared));
        }
    }

    // BatchSize events per batch, times the batches one operation writes at once (InFlight) where a suite has them.
    private static double EventsPerOperation(BenchmarkCase benchmarkCase)
    {
        var events = (double)(int)benchmarkCase.Parameters["BatchSize"];
        return benchmarkCase.Parameters.Items.Any(p => p.Name == "InFlight") ? events * (int)benchmarkCase.Parameters["InFlight"] : events;
    }

    private sealed class EventsPerSecondColumn : IColumn
    {
        public string Id => nameof(EventsPerSecondColumn);

        public string ColumnName => "Events/s";

        public bool AlwaysShow => true;

        public ColumnCategory Category => ColumnCategory.Custom;

        public int PriorityInCategory => 0;

        public bool IsNumeric => true;

        public UnitType UnitType => UnitType.Dimensionless;

        public string Legend => "Events written per second (batch size / mean time per operation)";

        public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, SummaryStyle.Default);

        public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style)
        {
            var report = summary[benchmarkCase];
            if (report?.ResultStatistics is not { } statistics)
            {
                return "NA";
            }

            return (EventsPerOperation(benchmarkCase) / (statistics.Mean / 1e9)).ToString("N0", CultureInfo.InvariantCulture);
        }

        public bool IsAvailable(Summary summary) => true;

        public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;
    }

    private sealed class AllocatedPerEventColumn : IColumn
    {
        public string Id => nameof(AllocatedPerEventColumn);

        public string ColumnName => "Alloc/event";

        public bool AlwaysShow => true;

        public ColumnCategory Category => ColumnCategory.Custom;

        public int PriorityInCategory => 1;

        public bool IsNumeric => true;

        public UnitType UnitType => UnitType.Size;

        public string Legend => "Bytes allocated per event (including the benchmark's creation of the events)";

        public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, SummaryStyle.Default);

        public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style)
        {
            var report = summary[benchmarkCase];
            if (report is null || !report.Success)
            {
                return "NA";
            }

            var bytes = report.GcStats.GetBytesAllocatedPerOperation(benchmarkCase);
            return bytes is null ? "NA" : (bytes.Value / EventsPerOperation(benchmarkCase)).ToString("N0", CultureInfo.InvariantCulture) + " B";
        }

        public bool IsAvailable(Summary summary) => true;

        public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;
    }
}
