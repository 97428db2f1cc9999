using System.Text.Json;
using Evothesis.Collector.Events.Internal;
using Evothesis.Collector.Sinks.PostgreSql;
using Evothesis.Collector.Sinks.Recent;
using Evothesis.Collector.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace Evothesis.Collector.Tests.Sinks.PostgreSql;

public sealed class PostgreSqlRecentEventStoreTests
{
    private PostgreSqlTestHost _host = null!;

    [SetUp]
    public async Task SetUp() => _host = await PostgreSqlTestHost.CreateAsync();

    [TearDown]
    public async Task TearDown() => await _host.DisposeAsync();

    [Test]
    public void AddPostgreSqlSink_ReplacesTheInMemoryStore() =>
        _host.Services.GetRequiredService<IRecentEventStore>().Should().BeOfType<PostgreSqlRecentEventStore>();

    [Test]
    public async Task GetRecentAsync_ReturnsNewestFirstUpToTheLimit()
    {
        var start = TestEvents.DefaultReceivedAt;
        var events = Enumerable.Range(0, 5).Select(i => TestEvents.Create(receivedAt: start.AddSeconds(i))).ToArray();
        await _host.Sink.WriteAsync(TestEvents.Batch(events[..3]), CancellationToken.None);
        await _host.Sink.WriteAsync(TestEvents.Batch(events[3..]), CancellationToken.None);

        var recent = await Store.GetRecentAsync(3, null, CancellationToken.None);

        recent.Select(e => e.Id).Should().Equal(events[4].Id, events[3].Id, events[2].Id);
    }

    [Test]
    public async Task GetRecentAsync_SameReceiveTime_OrdersByIdDescending()
    {
        var first = TestEvents.Create();
        var second = TestEvents.Create();
        await _host.Sink.WriteAsync(TestEvents.Batch(first, second), CancellationToken.None);

        var recent = await Store.GetRecentAsync(10, null, CancellationToken.None);

        // PostgreSQL orders uuids by their bytes, as their text sorts.
        recent.Select(e => e.Id).Should().Equal(new[] { first.Id, second.Id }.OrderByDescending(id => id.ToString()));
    }

    [Test]
    public async Task GetRecentAsync_ClientFilter_ReturnsOnlyThatClientsEvents()
    {
        var acme = TestEvents.Create(clientId: "client_acme_corp");
        await _host.Sink.WriteAsync(TestEvents.Batch(TestEvents.Create(), acme, TestEvents.Create()), CancellationToken.None);

        var recent = await Store.GetRecentAsync(10, "client_acme_corp", CancellationToken.None);

        recent.Select(e => e.Id).Should().Equal(acme.Id);
    }

    [Test]
    public async Task GetRecentAsync_EmptyTableOrZeroLimit_ReturnsNothing()
    {
        await _host.Schema.MaintainAsync(CancellationToken.None);

        (await Store.GetRecentAsync(10, null, CancellationToken.None)).Should().BeEmpty();
        (await Store.GetRecentAsync(0, null, CancellationToken.None)).Should().BeEmpty();
    }

    [Test]
    public async Task GetRecentAsync_Events_WriteWithTheStoredJsonNames()
    {
        var e = TestEvents.Create(eventId: "e-1", eventData: """{"value":1}""");
        await _host.Sink.WriteAsync(TestEvents.Batch(e), CancellationToken.None);
        var stored = (await Store.GetRecentAsync(1, null, CancellationToken.None)).Single();

        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            CollectedEventJson.Write(writer, stored);
        }

        using var json = JsonDocument.Parse(buffer.ToArray());
        json.RootElement.EnumerateObject().Select(p => p.Name).Should().Equal(
            "id", "eventId", "eventType", "client_id", "siteId", "sessionId", "timestamp", "client_timestamp", "received_at",
            "page_data", "event_data", "custom_data", "consent", "ip", "user_agent");
        json.RootElement.GetProperty("event_data").GetProperty("value").GetInt32().Should().Be(1);
        json.RootElement.GetProperty("received_at").GetDateTimeOffset().Should().Be(e.ReceivedAt);
    }

    private IRecentEventStore Store => _host.Services.GetRequiredService<IRecentEventStore>();
}
