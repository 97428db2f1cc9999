using System.Text.Json;
using Evothesis.Collector.Events;
using Evothesis.Collector.Sinks;
using Evothesis.Collector.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Npgsql;

namespace Evothesis.Collector.Tests.Sinks.PostgreSql;

public sealed class PostgreSqlEventSinkTests
{
    private PostgreSqlTestHost _host = null!;

    [SetUp]
    public async Task SetUp() => _host = await PostgreSqlTestHost.CreateAsync();

    [TearDown]
    public async Task TearDown() => await _host.DisposeAsync();

    [Test]
    public async Task WriteAsync_Batch_RoundTripsEveryField()
    {
        var full = TestEvents.Create(
            eventId: "e-1",
            eventType: "purchase",
            eventData: """{"order_id":"ORD-1","value":299.99,"currency":"USD","items":[{"sku":"A","qty":2}],"gift":false,"note":null}""",
            customData: """{"visitorId":"v_19ab","url":"https://localhost/"}""",
            consent: """{"analytics":true,"marketing":false}""",
            userAgent: "Mozilla/5.0 \"quoted\" é ü 日本",
            ip: "a1b2c3d4e5f6");
        var sparse = TestEvents.Create(sessionId: null, userAgent: null, ip: null, pageData: "null");

        await _host.Sink.WriteAsync(TestEvents.Batch(full, sparse), CancellationToken.None);

        var stored = await ReadAllAsync();
        stored.Should().HaveCount(2);
        AssertStored(stored.Single(e => e.Id == full.Id), full);
        AssertStored(stored.Single(e => e.Id == sparse.Id), sparse);
    }

    [Test]
    public async Task WriteAsync_Timestamps_AreStoredToTheMicrosecond()
    {
        var receivedAt = new DateTimeOffset(2026, 11, 26, 23, 59, 59, TimeSpan.Zero).AddTicks(9_999_990);
        var e = TestEvents.Create(receivedAt: receivedAt);

        await _host.Sink.WriteAsync(TestEvents.Batch(e), CancellationToken.None);

        var times = await _host.QueryAsync<DateTimeOffset>("SELECT received_at FROM events");
        times.Should().Equal(receivedAt);
        var text = await _host.QueryAsync<string>("SELECT to_char(received_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US') FROM events");
        text.Should().Equal("2026-11-26 23:59:59.999999");
    }

    [Test]
    public async Task WriteAsync_ClientRetryWithSameEventId_StoresOneRow()
    {
        var first = TestEvents.Create(eventId: "e-42");
        var retry = TestEvents.Create(eventId: "e-42", receivedAt: first.ReceivedAt.AddSeconds(3)); // a new request: new id and time
        var other = TestEvents.Create(eventId: "e-43");
        using var duplicates = new MetricCollector<long>(_host.Services.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>(),
            "Evothesis.Collector", "evothesis.collector.postgresql.rows.duplicate");

        await _host.Sink.WriteAsync(TestEvents.Batch(first), CancellationToken.None);
        await _host.Sink.WriteAsync(TestEvents.Batch(retry, other), CancellationToken.None);

        (await _host.QueryAsync<Guid>("SELECT id FROM events ORDER BY event_id")).Should().Equal(first.Id, other.Id);
        duplicates.GetMeasurementSnapshot().EvaluateAsCounter().Should().Be(1);
        _host.Logs.GetSnapshot().Should().Contain(r => r.Id.Id == 1503);
    }

    [Test]
    public async Task WriteAsync_ClientRetryAcrossMidnight_StoresOneRow()
    {
        var beforeMidnight = new DateTimeOffset(2026, 11, 26, 23, 59, 50, TimeSpan.Zero);
        var first = TestEvents.Create(eventId: "e-42", receivedAt: beforeMidnight);
        var retry = TestEvents.Create(eventId: "e-42", receivedAt: beforeMidnight.AddSeconds(20));
        var otherClient = TestEvents.Create(eventId: "e-42", clientId: "client_other", receivedAt: beforeMidnight.AddSeconds(20));
        var withoutId = TestEvents.Create(receivedAt: beforeMidnight.AddSeconds(20));
        var late = TestEvents.Create(eventId: "e-42", receivedAt: beforeMidnight.AddMinutes(30));
        using var duplicates = new MetricCollector<long>(_host.Services.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>(),
            "Evothesis.Collector", "evothesis.collector.postgresql.rows.duplicate");

        await _host.Sink.WriteAsync(TestEvents.Batch(first), CancellationToken.None);
        await _host.Sink.WriteAsync(TestEvents.Batch(retry, otherClient, withoutId), CancellationToken.None);

        (await _host.QueryAsync<Guid>("SELECT id FROM events")).Should().BeEquivalentTo([first.Id, otherClient.Id, withoutId.Id]);
        duplicates.GetMeasurementSnapshot().EvaluateAsCounter().Should().Be(1);

        // Past the window (15 minutes after midnight) the day before is not looked up: the documented limit.
        await _host.Sink.WriteAsync(TestEvents.Batch(late), CancellationToken.None);
        (await _host.CountAsync()).Should().Be(4);
    }

    [Test]
    public async Task WriteAsync_SameEventIdOfDifferentClients_StoresBoth()
    {
        await _host.Sink.WriteAsync(
            TestEvents.Batch(TestEvents.Create(clientId: "a", eventId: "e-1"), TestEvents.Create(clientId: "b", eventId: "e-1")),
            CancellationToken.None);

        (await _host.CountAsync()).Should().Be(2);
    }

    [Test]
    public async Task WriteAsync_EventsWithoutEventId_AreAlwaysInserted()
    {
        await _host.Sink.WriteAsync(TestEvents.Batch(TestEvents.Create(), TestEvents.Create()), CancellationToken.None);
        await _host.Sink.WriteAsync(TestEvents.Batch(TestEvents.Create()), CancellationToken.None);

        (await _host.CountAsync()).Should().Be(3);
    }

    [Test]
    public async Task WriteAsync_SameBatchWrittenAgain_StoresEachEventOnce()
    {
        // A write whose commit succeeded but whose answer was lost is retried with the same batch.
        var batch = TestEvents.Batch(TestEvents.Create(eventId: "e-1"), TestEvents.Create(), TestEvents.Create());

        await _host.Sink.WriteAsync(batch, CancellationToken.None);
        await _host.Sink.WriteAsync(batch, CancellationToken.None);

        (await _host.CountAsync()).Should().Be(3);
    }

    [Test]
    public async Task WriteAsync_SameEventIdTwiceInOneBatch_StoresOne()
    {
        await _host.Sink.WriteAsync(
            TestEvents.Batch(TestEvents.Create(eventId: "e-1"), TestEvents.Create(eventId: "e-1"), TestEvents.Create(eventId: "e-2")),
            CancellationToken.None);

        (await _host.QueryAsync<string>("SELECT event_id FROM events ORDER BY event_id")).Should().Equal("e-1", "e-2");
    }

    /// <summary>Values the collector's own parser lets through or that custom processors could set, each refused by PostgreSQL.</summary>
    private static IEnumerable<TestCaseData> RefusedValues()
    {
        yield return new TestCaseData((Action<CollectedEvent>)(e => e.UserAgent = "secret-agent\0"), "22021").SetName("{m}(NUL in text)");
        yield return new TestCaseData((Action<CollectedEvent>)(e => e.EventData = RawJson.Parse("""{"note":"secret-\u0000-value"}""")), "22P05")
            .SetName("{m}(\\u0000 in jsonb)");

        // What the /collect parser accepts (a finite double: 0) and numeric cannot hold (a scale over 16383 digits).
        yield return new TestCaseData((Action<CollectedEvent>)(e => e.EventData = RawJson.Parse("""{"secret":1e-20000}""")), "22003")
            .SetName("{m}(number numeric cannot hold)");
        yield return new TestCaseData((Action<CollectedEvent>)(e => e.Ip = "\ud800secret"), "22021").SetName("{m}(unpaired surrogate)");
        yield return new TestCaseData(
            (Action<CollectedEvent>)(e => e.EventId = "secret" + string.Concat(Enumerable.Range(0, 400).Select(_ => Guid.NewGuid().ToString("N")))),
            "54000").SetName("{m}(eventId too large for the unique index)");
    }

    [TestCaseSource(nameof(RefusedValues))]
    public async Task WriteAsync_ValuePostgreSqlRefuses_StoresNothingAndThrowsRejectedWithoutTheValue(Action<CollectedEvent> spoil, string sqlState)
    {
        var events = Enumerable.Range(0, 20).Select(i => TestEvents.Create(eventId: $"e-{i}")).ToArray();
        spoil(events[13]);
        using var failures = new MetricCollector<long>(_host.Services.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>(),
            "Evothesis.Collector", "evothesis.collector.postgresql.failures");

        var write = async () => await _host.Sink.WriteAsync(TestEvents.Batch(events), CancellationToken.None);

        var rejected = (await write.Should().ThrowAsync<EventsRejectedException>()).Which;
        rejected.Message.Should().Contain($"SQLSTATE {sqlState}").And.Contain("20 event(s)").And.NotContain("secret");
        rejected.InnerException.Should().BeNull("the server's message can quote the value");
        (await _host.CountAsync()).Should().Be(0);
        failures.GetMeasurementSnapshot().Should().ContainSingle().Which.Tags
            .Should().Contain("error.type", sqlState).And.Contain("evothesis.postgresql.refused", true);
        var logs = _host.Logs.GetSnapshot();
        logs.Should().ContainSingle(r => r.Id.Id == 1504).Which.Message.Should().Contain(sqlState);
        logs.Should().NotContain(r => r.Message.Contains("secret") || (r.Exception != null && r.Exception.ToString().Contains("secret")));
    }

    [Test]
    public async Task WriteAsync_RefusedValueAndDuplicateInOneBatch_ThrowsRejectedAndStoresNothingMore()
    {
        var first = TestEvents.Create(eventId: "e-1");
        await _host.Sink.WriteAsync(TestEvents.Batch(first), CancellationToken.None);
        var retry = TestEvents.Create(eventId: "e-1");
        var bad = TestEvents.Create(eventId: "e-2", userAgent: "x\0");
        var fresh = TestEvents.Create(eventId: "e-3");

        // The duplicate sends the batch the careful way; the refused value fails that as well.
        var write = async () => await _host.Sink.WriteAsync(TestEvents.Batch(retry, bad, fresh), CancellationToken.None);

        (await write.Should().ThrowAsync<EventsRejectedException>()).Which.Message.Should().Contain("SQLSTATE 22021");
        (await _host.QueryAsync<string>("SELECT event_id FROM events")).Should().Equal("e-1");

        // Without the refused event (the consumer delivers the batch's requests one by one), the rest is stored once.
        await _host.Sink.WriteAsync(TestEvents.Batch(retry, fresh), CancellationToken.None);
        (await _host.QueryAsync<string>("SELECT event_id FROM events ORDER BY event_id")).Should().Equal("e-1", "e-3");
    }

    [Test]
    public async Task WriteAsync_RowACheckConstraintRefuses_ThrowsRejectedNamingTheConstraint()
    {
        await _host.Schema.MaintainAsync(CancellationToken.None);
        await _host.ExecuteAsync("ALTER TABLE events ADD CONSTRAINT no_boom CHECK (event_type <> 'boom')");
        var batch = TestEvents.Batch(TestEvents.Create(), TestEvents.Create(eventType: "boom"), TestEvents.Create());

        var write = async () => await _host.Sink.WriteAsync(batch, CancellationToken.None);

        (await write.Should().ThrowAsync<EventsRejectedException>()).Which.Message
            .Should().Contain("SQLSTATE 23514").And.Contain("constraint no_boom").And.NotContain("boom'");
        (await _host.CountAsync()).Should().Be(0);
    }

    [Test]
    public async Task WriteAsync_NoPartitionForTheDay_FailsAsAnOutageNotARefusal()
    {
        // With partitions managed elsewhere (pg_partman lagging behind), the row has nowhere to go: SQLSTATE 23514 too,
        // but naming no constraint. The database's state, not the event's: retried, never parked.
        await using var host = await PostgreSqlTestHost.CreateAsync(o => o.ManagePartitions = false);
        await host.Schema.MaintainAsync(CancellationToken.None);
        using var failures = new MetricCollector<long>(host.Services.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>(),
            "Evothesis.Collector", "evothesis.collector.postgresql.failures");

        var write = async () => await host.Sink.WriteAsync(TestEvents.Batch(TestEvents.Create()), CancellationToken.None);

        (await write.Should().ThrowAsync<PostgresException>()).Which.SqlState.Should().Be(PostgresErrorCodes.CheckViolation);
        failures.GetMeasurementSnapshot().Should().ContainSingle().Which.Tags.Should().Contain("evothesis.postgresql.refused", false);
        host.Logs.GetSnapshot().Should().Contain(r => r.Id.Id == 1505).And.NotContain(r => r.Id.Id == 1504);
    }

    [Test]
    public async Task WriteAsync_StatementTimeout_FailsAsAnOutageNotARefusal()
    {
        // 57014: cancelled by the server (statement_timeout, or an operator's pg_cancel_backend).
        var connectionString = new NpgsqlConnectionStringBuilder(_host.ConnectionString) { Options = "-c statement_timeout=1" }.ConnectionString;
        await using var host = PostgreSqlTestHost.Create(connectionString);
        await _host.Schema.MaintainAsync(CancellationToken.None);

        var write = async () => await host.Sink.WriteAsync(TestEvents.Batch([.. TestEvents.Many(20_000)]), CancellationToken.None);

        (await write.Should().ThrowAsync<PostgresException>()).Which.SqlState.Should().Be(PostgresErrorCodes.QueryCanceled);
        (await _host.CountAsync()).Should().Be(0);
    }

    [Test]
    public async Task WriteAsync_TooManyConnections_FailsAsAnOutageNotARefusal()
    {
        // 53300: the server has no connection left for the collector's role (class 53: insufficient resources).
        var role = "r_" + Guid.NewGuid().ToString("N")[..12];
        await _host.Schema.MaintainAsync(CancellationToken.None);
        await _host.ExecuteAsync($"CREATE ROLE {role} LOGIN CONNECTION LIMIT 0; GRANT ALL ON ALL TABLES IN SCHEMA public TO {role}");
        var connectionString = new NpgsqlConnectionStringBuilder(_host.ConnectionString) { Username = role }.ConnectionString;
        await using var host = PostgreSqlTestHost.Create(connectionString, o => (o.CreateSchema, o.ManagePartitions) = (false, false));

        var write = async () => await host.Sink.WriteAsync(TestEvents.Batch(TestEvents.Create()), CancellationToken.None);

        (await write.Should().ThrowAsync<PostgresException>()).Which.SqlState.Should().Be(PostgresErrorCodes.TooManyConnections);
    }

    [Test]
    public async Task WriteAsync_NoPrivilegeOnTheTable_FailsAsAnOutageNotARefusal()
    {
        // 42501: the database's configuration, not the events': parking every event until it is fixed would be worse.
        var role = "r_" + Guid.NewGuid().ToString("N")[..12];
        await _host.Schema.MaintainAsync(CancellationToken.None);
        await _host.ExecuteAsync($"CREATE ROLE {role} LOGIN");
        var connectionString = new NpgsqlConnectionStringBuilder(_host.ConnectionString) { Username = role }.ConnectionString;
        await using var host = PostgreSqlTestHost.Create(connectionString, o => (o.CreateSchema, o.ManagePartitions) = (false, false));

        var write = async () => await host.Sink.WriteAsync(TestEvents.Batch(TestEvents.Create()), CancellationToken.None);

        (await write.Should().ThrowAsync<PostgresException>()).Which.SqlState.Should().Be(PostgresErrorCodes.InsufficientPrivilege);
    }

    [Test]
    public async Task WriteAsync_EventsOnBothSidesOfMidnight_GoToTheirDaysPartitions()
    {
        var midnight = new DateTimeOffset(2031, 3, 5, 0, 0, 0, TimeSpan.Zero);
        var before = TestEvents.Create(eventId: "e-1", receivedAt: midnight.AddTicks(-10));
        var after = TestEvents.Create(eventId: "e-1", receivedAt: midnight);

        await _host.Sink.WriteAsync(TestEvents.Batch(before, after), CancellationToken.None);

        (await _host.QueryAsync<string>("SELECT tableoid::regclass::text FROM events ORDER BY received_at"))
            .Should().Equal("events_p20310304", "events_p20310305");
    }

    [Test]
    public async Task WriteAsync_PartitionDroppedBehindTheSinksBack_IsCreatedAgainOnTheNextWrite()
    {
        var e = TestEvents.Create();
        await _host.Sink.WriteAsync(TestEvents.Batch(e), CancellationToken.None);
        var partition = (await _host.QueryAsync<string>("SELECT tableoid::regclass::text FROM events")).Single();
        await _host.ExecuteAsync($"DROP TABLE {partition}");

        var failed = async () => await _host.Sink.WriteAsync(TestEvents.Batch(TestEvents.Create()), CancellationToken.None);
        await failed.Should().ThrowAsync<PostgresException>();
        await _host.Sink.WriteAsync(TestEvents.Batch(TestEvents.Create()), CancellationToken.None);

        (await _host.CountAsync()).Should().Be(1);
    }

    [Test]
    public async Task WriteAsync_Cancelled_StoresNothing()
    {
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();

        var write = async () => await _host.Sink.WriteAsync(TestEvents.Batch(TestEvents.Create()), cancelled.Token);

        await write.Should().ThrowAsync<OperationCanceledException>();
        await _host.Sink.WriteAsync(TestEvents.Batch(TestEvents.Create()), CancellationToken.None);
        (await _host.CountAsync()).Should().Be(1);
    }

    [Test]
    public async Task WriteAsync_LargeBatch_IsOneTransaction()
    {
        await _host.Sink.WriteAsync(TestEvents.Batch([.. TestEvents.Many(5000)]), CancellationToken.None);

        // The transaction that wrote a row is its xmin.
        (await _host.QueryAsync<long>("SELECT count(DISTINCT xmin::text) FROM events")).Should().Equal(1);
        (await _host.CountAsync()).Should().Be(5000);
    }

    [Test]
    public async Task WriteAsync_SeveralBatchesAtOnce_EachIsItsOwnTransaction()
    {
        var batches = Enumerable.Range(0, 4).Select(b => TestEvents.Batch([.. TestEvents.Many(2000, clientId: $"client_{b}")])).ToArray();

        await Task.WhenAll(batches.Select(b => _host.Sink.WriteAsync(b, CancellationToken.None).AsTask()));

        (await _host.CountAsync()).Should().Be(8000);
        (await _host.QueryAsync<long>("SELECT count(DISTINCT xmin::text) FROM events")).Should().Equal(4);
        (await _host.QueryAsync<long>("SELECT count(DISTINCT xmin::text) FROM events GROUP BY client_id")).Should().AllBeEquivalentTo(1);
    }

    [Test]
    public async Task WriteAsync_SameBatchTwiceAtOnce_StoresEachEventOnce()
    {
        // A batch written again while its first write is still in flight (a retry after a timeout whose COPY went on).
        var batch = TestEvents.Batch([.. TestEvents.Many(3000), .. Enumerable.Range(0, 1000).Select(_ => TestEvents.Create())]);
        using var duplicates = new MetricCollector<long>(_host.Services.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>(),
            "Evothesis.Collector", "evothesis.collector.postgresql.rows.duplicate");

        await Task.WhenAll(_host.Sink.WriteAsync(batch, CancellationToken.None).AsTask(), _host.Sink.WriteAsync(batch, CancellationToken.None).AsTask());

        (await _host.CountAsync()).Should().Be(4000);
        duplicates.GetMeasurementSnapshot().EvaluateAsCounter().Should().Be(4000);
    }

    [Test]
    public async Task WriteAsync_TwoBatchesAtOnceWithSameEventIdsInCrossingOrder_StoreEachOnceInOneAttempt()
    {
        // Each batch inserts a key the other one inserts too, in the other order, so they can deadlock (they do most of
        // the time here). PostgreSQL cancels one; that one takes the careful path, which waits for the other's commit
        // and skips what it stored, so neither write fails.
        await _host.Sink.WriteAsync(TestEvents.Batch([.. TestEvents.Many(6000, clientId: "warm_up")]), CancellationToken.None);
        var first = new List<CollectedEvent> { TestEvents.Create(eventId: "x") };
        first.AddRange(Enumerable.Range(0, 2998).Select(i => TestEvents.Create(eventId: $"a{i}")));
        first.Add(TestEvents.Create(eventId: "y"));
        var second = new List<CollectedEvent> { TestEvents.Create(eventId: "y") };
        second.AddRange(Enumerable.Range(0, 2998).Select(i => TestEvents.Create(eventId: $"b{i}")));
        second.Add(TestEvents.Create(eventId: "x"));
        using var duplicates = new MetricCollector<long>(_host.Services.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>(),
            "Evothesis.Collector", "evothesis.collector.postgresql.rows.duplicate");

        await Task.WhenAll(
            Task.Run(() => _host.Sink.WriteAsync(TestEvents.Batch([.. first]), CancellationToken.None).AsTask()),
            Task.Run(() => _host.Sink.WriteAsync(TestEvents.Batch([.. second]), CancellationToken.None).AsTask()));

        (await _host.CountAsync(where: "client_id = 'client_test'")).Should().Be(5998);
        (await _host.CountAsync(where: "event_id IN ('x', 'y')")).Should().Be(2);
        duplicates.GetMeasurementSnapshot().EvaluateAsCounter().Should().Be(2);
    }

    private static void AssertStored(CollectedEvent stored, CollectedEvent expected)
    {
        stored.Should().BeEquivalentTo(expected, o => o
            .Excluding(e => e.PageData).Excluding(e => e.EventData).Excluding(e => e.CustomData).Excluding(e => e.Consent));
        AssertJsonEqual(stored.PageData, expected.PageData);
        AssertJsonEqual(stored.EventData, expected.EventData);
        AssertJsonEqual(stored.CustomData, expected.CustomData);
        AssertJsonEqual(stored.Consent, expected.Consent);
    }

    private static void AssertJsonEqual(RawJson actual, RawJson expected)
    {
        actual.IsNull.Should().Be(expected.IsNull);
        JsonElement.DeepEquals(actual.ToJsonElement(), expected.ToJsonElement())
            .Should().BeTrue($"stored {actual} should be the same JSON as {expected}");
    }

    private async Task<List<CollectedEvent>> ReadAllAsync()
    {
        var store = _host.Services.GetRequiredService<Evothesis.Collector.Sinks.Recent.IRecentEventStore>();
        return [.. await store.GetRecentAsync(1000, null, CancellationToken.None)];
    }
}
