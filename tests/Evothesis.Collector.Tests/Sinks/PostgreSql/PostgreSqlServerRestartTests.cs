using Evothesis.Collector.Sinks.PostgreSql;
using Evothesis.Collector.Testing;
using Evothesis.Collector.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Evothesis.Collector.Tests.Sinks.PostgreSql;

/// <summary>Stops and starts a server of its own, so the shared one is never disturbed.</summary>
[NonParallelizable]
public sealed class PostgreSqlServerRestartTests
{
    private PostgresServer _server = null!;
    private PostgreSqlTestHost _host = null!;

    [OneTimeSetUp]
    public async Task StartServer() => _server = await PostgresTestServer.StartDedicatedAsync();

    [OneTimeTearDown]
    public async Task StopServer() => await _server.DisposeAsync();

    [SetUp]
    public async Task SetUp()
    {
        await _server.StartAsync();
        _host = PostgreSqlTestHost.Create(await _server.CreateDatabaseAsync());
    }

    [TearDown]
    public async Task TearDown() => await _host.DisposeAsync();

    [Test]
    public async Task WriteAsync_ServerRestarted_FailsWhileDownThenRecovers()
    {
        await _host.Sink.WriteAsync(TestEvents.Batch(TestEvents.Create(eventId: "before")), CancellationToken.None);

        await _server.StopAsync();
        var whileDown = async () => await _host.Sink.WriteAsync(TestEvents.Batch(TestEvents.Create(eventId: "down")), CancellationToken.None);
        await whileDown.Should().ThrowAsync<Npgsql.NpgsqlException>();
        await _server.StartAsync();

        // The first write after the restart must not trip over a pooled connection to the old server process.
        await _host.Sink.WriteAsync(TestEvents.Batch(TestEvents.Create(eventId: "after")), CancellationToken.None);

        (await _host.QueryAsync<string>("SELECT event_id FROM events ORDER BY event_id")).Should().Equal("after", "before");
    }

    [Test]
    public async Task WriteAsync_ServerRestartedWhileIdle_FirstWriteSucceeds()
    {
        await _host.Sink.WriteAsync(TestEvents.Batch(TestEvents.Create(eventId: "before")), CancellationToken.None);

        await _server.StopAsync();
        await _server.StartAsync();

        // The pool still holds a connection to the old server process: the sink must notice and reconnect.
        await _host.Sink.WriteAsync(TestEvents.Batch(TestEvents.Create(eventId: "after")), CancellationToken.None);

        (await _host.QueryAsync<string>("SELECT event_id FROM events ORDER BY event_id")).Should().Equal("after", "before");
    }

    [Test]
    public async Task CheckHealthAsync_FollowsTheServer()
    {
        var health = _host.Services.GetRequiredService<HealthCheckService>();

        (await health.CheckHealthAsync(r => r.Name == PostgreSqlHealthCheck.Name)).Status.Should().Be(HealthStatus.Healthy);

        await _server.StopAsync();
        var down = await health.CheckHealthAsync(r => r.Name == PostgreSqlHealthCheck.Name);
        down.Status.Should().Be(HealthStatus.Unhealthy);
        down.Entries[PostgreSqlHealthCheck.Name].Description.Should().StartWith("PostgreSQL is unreachable");

        await _server.StartAsync();
        Npgsql.NpgsqlConnection.ClearAllPools();
        (await health.CheckHealthAsync(r => r.Name == PostgreSqlHealthCheck.Name)).Status.Should().Be(HealthStatus.Healthy);
    }
}
