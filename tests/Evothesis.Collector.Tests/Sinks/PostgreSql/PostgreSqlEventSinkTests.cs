using System.Text.Json;
using Evothesis.Collector.Events;
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

    [Test]
    public async Task WriteAsync_ValuesPostgreSqlRefuses_DropsOnlyThoseEventsAndCountsThem()
    {
        var events = Enumerable.Range(0, 20).Select(i => TestEvents.Create(eventId: $"e-{i}")).ToArray();
        events[3].UserAgent = "secret-agent\0";                                   // NUL in text
        events[8].EventData = RawJson.Parse("""{"note":"secret-\u0000-value"}"""); // \u0000 in jsonb
        events[9].Ip = "\ud800secret";                                              // unpaired surrogate: .NET cannot encode it
        events[15].UserAgent = "agent\0secret";
        using var dropped = new MetricCollector<long>(_host.Services.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>(),
            "Evothesis.Collector", "evothesis.collector.events.dropped");

        await _host.Sink.WriteAsync(TestEvents.Batch(events), CancellationToken.None);

        var expected = events.Where((_, i) => i is not (3 or 8 or 9 or 15)).Select(e => e.Id);
        (await _host.QueryAsync<Guid>("SELECT id FROM events")).Should().BeEquivalentTo(expected);
        var measurements = dropped.GetMeasurementSnapshot();
        measurements.EvaluateAsCounter().Should().Be(4);
        measurements.Should().OnlyContain(m => (string?)m.Tags["reason"] == "invalid_value");

        var logs = _host.Logs.GetSnapshot();
        logs.Where(r => r.Id.Id == 1504).Select(r => r.Message).Should().HaveCount(4)
            .And.Contain(m => m.Contains(events[3].Id.ToString()) && m.Contains("22021"))
            .And.Contain(m => m.Contains(events[8].Id.ToString()) && m.Contains("22P05"));
        logs.Should().NotContain(r => r.Message.Contains("secret") || (r.Exception != null && r.Exception.ToString().Contains("secret")));
    }

    [Test]
    public async Task WriteAsync_EventIdTooLargeForTheUniqueIndex_DropsOnlyThatEvent()
    {
        var huge = TestEvents.Create(eventId: string.Concat(Enumerable.Range(0, 400).Select(_ => Guid.NewGuid().ToString("N"))));
        var good = TestEvents.Create(eventId: "e-1");

        await _host.Sink.WriteAsync(TestEvents.Batch(huge, good), CancellationToken.None);

        (await _host.QueryAsync<Guid>("SELECT id FROM events")).Should().Equal(good.Id);
        _host.Logs.GetSnapshot().Should().Contain(r => r.Id.Id == 1504 && r.Message.Contains("54000"));
    }

    [Test]
    public async Task WriteAsync_RefusedValueAndDuplicateInOneBatch_StoresTheRestOnce()
    {
        var first = TestEvents.Create(eventId: "e-1");
        await _host.Sink.WriteAsync(TestEvents.Batch(first), CancellationToken.None);
        var bad = TestEvents.Create(eventId: "e-2", userAgent: "x\0");
        var retry = TestEvents.Create(eventId: "e-1");
        var fresh = TestEvents.Create(eventId: "e-3");

        await _host.Sink.WriteAsync(TestEvents.Batch(retry, bad, fresh), CancellationToken.None);

        (await _host.QueryAsync<string>("SELECT event_id FROM events ORDER BY event_id")).Should().Equal("e-1", "e-3");
    }

    [Test]
    public async Task WriteAsync_BatchFailsForAnotherReason_StoresNothingAndThrows()
    {
        await _host.Schema.MaintainAsync(CancellationToken.None);
        await _host.ExecuteAsync("ALTER TABLE events ADD CONSTRAINT no_boom CHECK (event_type <> 'boom')");
        var batch = TestEvents.Batch(TestEvents.Create(), TestEvents.Create(), TestEvents.Create(eventType: "boom"), TestEvents.Create());
        using var failures = new MetricCollector<long>(_host.Services.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>(),
            "Evothesis.Collector", "evothesis.collector.postgresql.failures");

        var write = async () => await _host.Sink.WriteAsync(batch, CancellationToken.None);

        (await write.Should().ThrowAsync<PostgresException>()).Which.SqlState.Should().Be(PostgresErrorCodes.CheckViolation);
        (await _host.CountAsync()).Should().Be(0);
        failures.GetMeasurementSnapshot().Should().ContainSingle().Which.Tags["error.type"].Should().Be("23514");
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
    public async Task WriteAsync_LargeBatch_IsWrittenInOneTransactionPerPart()
    {
        await using var split = await PostgreSqlTestHost.CreateAsync(o => (o.MinEventsPerConnection, o.WriteConnections) = (3, 2));
        await using var whole = await PostgreSqlTestHost.CreateAsync(o => o.MinEventsPerConnection = 3); // the default WriteConnections
        await split.Schema.MaintainAsync(CancellationToken.None);
        await whole.Schema.MaintainAsync(CancellationToken.None);

        // The transaction that wrote a row is its xmin: 7 events make two parts of at least 3, 5 events are too few
        // for two parts, and one write connection (the default) writes any batch in one transaction.
        (await TransactionsAsync(split, 7)).Should().Be(2);
        (await TransactionsAsync(split, 5)).Should().Be(1);
        (await TransactionsAsync(whole, 7)).Should().Be(1);

        static async Task<long> TransactionsAsync(PostgreSqlTestHost host, int count)
        {
            await host.ExecuteAsync("DELETE FROM events");
            await host.Sink.WriteAsync(TestEvents.Batch([.. TestEvents.Many(count)]), CancellationToken.None);
            (await host.CountAsync()).Should().Be(count);
            return (await host.QueryAsync<long>("SELECT count(DISTINCT xmin::text) FROM events")).Single();
        }
    }

    [Test]
    public async Task WriteAsync_OnePartFailsAnotherCommits_ThrowsAndWritingAgainStoresEachEventOnce()
    {
        await using var host = await PostgreSqlTestHost.CreateAsync(o => (o.MinEventsPerConnection, o.WriteConnections) = (4, 2));
        await host.Schema.MaintainAsync(CancellationToken.None);
        await host.ExecuteAsync("ALTER TABLE events ADD CONSTRAINT no_boom CHECK (event_type <> 'boom')");

        // Two parts of four: the first commits; the second fails on the constraint, for a reason that is not one
        // event's value, so nothing of it is stored. Both parts hold events without eventId, which only the
        // primary key (received_at, id) keeps from being stored twice when the batch is written again.
        var first = new[] { TestEvents.Create(eventId: "e-1"), TestEvents.Create(), TestEvents.Create(eventId: "e-2"), TestEvents.Create() };
        var second = new[] { TestEvents.Create(eventId: "e-3"), TestEvents.Create(eventType: "boom"), TestEvents.Create(), TestEvents.Create(eventId: "e-4") };
        var batch = TestEvents.Batch([.. first, .. second]);
        using var duplicates = new MetricCollector<long>(host.Services.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>(),
            "Evothesis.Collector", "evothesis.collector.postgresql.rows.duplicate");

        var write = async () => await host.Sink.WriteAsync(batch, CancellationToken.None);

        (await write.Should().ThrowAsync<PostgresException>()).Which.SqlState.Should().Be(PostgresErrorCodes.CheckViolation);
        (await host.QueryAsync<Guid>("SELECT id FROM events")).Should().BeEquivalentTo(first.Select(e => e.Id));
        host.Logs.GetSnapshot().Should().Contain(r => r.Id.Id == 1505 && r.Message.Contains("2 part(s)"));

        await host.ExecuteAsync("ALTER TABLE events DROP CONSTRAINT no_boom");
        await host.Sink.WriteAsync(batch, CancellationToken.None);

        (await host.QueryAsync<Guid>("SELECT id FROM events")).Should().BeEquivalentTo(batch.Events.Select(e => e.Id));
        duplicates.GetMeasurementSnapshot().EvaluateAsCounter().Should().Be(4);
    }

    [Test]
    public async Task WriteAsync_PartsWithDuplicatesAndRefusedValues_EachPartStoresItsRestOnce()
    {
        await using var host = await PostgreSqlTestHost.CreateAsync(o => (o.MinEventsPerConnection, o.WriteConnections) = (3, 2));
        await host.Sink.WriteAsync(TestEvents.Batch(TestEvents.Create(eventId: "e-1")), CancellationToken.None);

        // First part: a retry of a stored event; second part: a refused value and the same eventId twice.
        var batch = TestEvents.Batch(
            TestEvents.Create(eventId: "e-1"), TestEvents.Create(eventId: "e-2"), TestEvents.Create(),
            TestEvents.Create(eventId: "e-3", userAgent: "x\0"), TestEvents.Create(eventId: "e-4"), TestEvents.Create(eventId: "e-4"));

        await host.Sink.WriteAsync(batch, CancellationToken.None);

        (await host.QueryAsync<string>("SELECT coalesce(event_id, '-') FROM events ORDER BY 1")).Should().Equal("-", "e-1", "e-2", "e-4");
        host.Logs.GetSnapshot().Should().ContainSingle(r => r.Id.Id == 1504);
    }

    [Test]
    public async Task WriteAsync_SameEventIdsInTwoPartsInCrossingOrder_StoresEachOnceInOneAttempt()
    {
        // Each part inserts a key the other one inserts too, in the other order, so the parts can deadlock (they do
        // most of the time here). PostgreSQL cancels one; that part takes the careful path once the other has
        // committed, so the batch is not failed and written again (which would count the committed part's 3000
        // events as duplicates).
        await using var host = await PostgreSqlTestHost.CreateAsync(o => (o.MinEventsPerConnection, o.WriteConnections) = (3000, 2));
        await host.Sink.WriteAsync(TestEvents.Batch([.. TestEvents.Many(6000, clientId: "warm_up")]), CancellationToken.None); // two pooled connections
        var events = new List<CollectedEvent> { TestEvents.Create(eventId: "x") };
        events.AddRange(Enumerable.Range(0, 2998).Select(i => TestEvents.Create(eventId: $"a{i}")));
        events.Add(TestEvents.Create(eventId: "y"));
        events.Add(TestEvents.Create(eventId: "y"));
        events.AddRange(Enumerable.Range(0, 2998).Select(i => TestEvents.Create(eventId: $"b{i}")));
        events.Add(TestEvents.Create(eventId: "x"));
        using var duplicates = new MetricCollector<long>(host.Services.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>(),
            "Evothesis.Collector", "evothesis.collector.postgresql.rows.duplicate");

        await host.Sink.WriteAsync(TestEvents.Batch([.. events]), CancellationToken.None);

        (await host.CountAsync(where: "client_id = 'client_test'")).Should().Be(5998);
        (await host.CountAsync(where: "event_id IN ('x', 'y')")).Should().Be(2);
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
