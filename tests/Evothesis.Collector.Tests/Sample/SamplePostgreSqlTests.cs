using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Evothesis.Collector.Sinks.Recent;
using Evothesis.Collector.Tests.Support;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace Evothesis.Collector.Tests.Sample;

/// <summary>The sample host with <c>ConnectionStrings:Evothesis</c> set: the seed's curl events land in PostgreSQL.</summary>
public sealed class SamplePostgreSqlTests
{
    private string _connectionString = null!;
    private WebApplicationFactory<Program> _factory = null!;

    [SetUp]
    public async Task SetUp()
    {
        _connectionString = await PostgresTestServer.CreateDatabaseAsync();
        _factory = new WebApplicationFactory<Program>().WithWebHostBuilder(b => b
            .UseEnvironment("Development")
            .UseSetting("Evothesis:Storage:Path", Path.Combine(Path.GetTempPath(), "evothesis-sample-pg-" + Guid.NewGuid().ToString("N")))
            .UseSetting("Evothesis:Batching:AckMode", "Committed")
            .UseSetting("ConnectionStrings:Evothesis", _connectionString));
    }

    [TearDown]
    public async Task TearDown() => await _factory.DisposeAsync();

    [Test]
    public async Task Collect_SeedCurlEvents_AreStoredInPostgreSqlAndReadBackByRecentEvents()
    {
        using var client = _factory.CreateClient();
        var single = """
            {"eventType":"pageview","eventId":"seed-1","sessionId":"sess_123","siteId":"localhost","timestamp":"2026-11-26T11:59:58Z",
             "page_data":{"url":"http://localhost:8000/products","title":"Products","referrer":""}}
            """;
        var batch = """
            {"eventType":"batch","sessionId":"sess_123","siteId":"localhost","sentAt":"2026-11-26T12:00:00Z",
             "events":[{"eventType":"click","eventId":"seed-2","event_data":{"element":"button#buy"}},
                       {"eventType":"purchase","eventId":"seed-3","event_data":{"order_id":"ORD-1","value":299.99,"currency":"USD"}}]}
            """;

        (await client.PostAsync("/collect", new StringContent(single, Encoding.UTF8, "application/json"))).StatusCode.Should().Be(HttpStatusCode.Accepted);
        (await client.PostAsync("/collect", new StringContent(batch, Encoding.UTF8, "application/json"))).StatusCode.Should().Be(HttpStatusCode.Accepted);
        // The pixel retries a request it got no answer for: same eventIds, stored once.
        (await client.PostAsync("/collect", new StringContent(batch, Encoding.UTF8, "application/json"))).StatusCode.Should().Be(HttpStatusCode.Accepted);

        await using (var dataSource = NpgsqlDataSource.Create(_connectionString))
        await using (var command = dataSource.CreateCommand("SELECT event_id || ':' || client_id || ':' || site_id FROM events ORDER BY event_id"))
        await using (var reader = await command.ExecuteReaderAsync())
        {
            var rows = new List<string>();
            while (await reader.ReadAsync())
            {
                rows.Add(reader.GetString(0));
            }

            rows.Should().Equal("seed-1:client_test:localhost", "seed-2:client_test:localhost", "seed-3:client_test:localhost");
        }

        var recent = await client.GetFromJsonAsync<JsonElement>("/events/recent?limit=10&client_id=client_test");
        recent.EnumerateArray().Select(e => e.GetProperty("eventId").GetString()).Should().BeEquivalentTo("seed-1", "seed-2", "seed-3");
        var purchase = recent.EnumerateArray().Single(e => e.GetProperty("eventId").GetString() == "seed-3");
        purchase.GetProperty("eventType").GetString().Should().Be("purchase");
        purchase.GetProperty("event_data").GetProperty("value").GetDecimal().Should().Be(299.99m);
        purchase.GetProperty("sessionId").GetString().Should().Be("sess_123");
        var ring = _factory.Services.GetRequiredService<InMemoryRecentEventStore>();
        (await ring.GetRecentAsync(10, null, CancellationToken.None)).Should().BeEmpty("PostgreSQL serves recent events, so the in-memory ring is not kept");

        var health = await client.GetAsync("/health");
        health.StatusCode.Should().Be(HttpStatusCode.OK);
    }
}
