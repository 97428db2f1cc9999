using Evothesis.Collector.Sinks;
using Evothesis.Collector.Sinks.PostgreSql;
using Evothesis.Collector.Sinks.PostgreSql.Internal;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Npgsql;

namespace Evothesis.Collector.Tests.Support;

/// <summary>
/// A service provider with the collector and its PostgreSQL sink on a database of its own, plus helpers to look
/// at what was stored. Logs go to a <see cref="FakeLogCollector"/>.
/// </summary>
public sealed class PostgreSqlTestHost : IAsyncDisposable
{
    private readonly ServiceProvider _services;

    private PostgreSqlTestHost(ServiceProvider services, string connectionString)
    {
        _services = services;
        ConnectionString = connectionString;
    }

    public string ConnectionString { get; }

    public IServiceProvider Services => _services;

    public FakeLogCollector Logs => _services.GetFakeLogCollector();

    internal PostgreSqlEventSink Sink => _services.GetServices<IEventSink>().OfType<PostgreSqlEventSink>().Single();

    internal PostgreSqlSchemaManager Schema => _services.GetRequiredService<PostgreSqlSchemaManager>();

    /// <summary>Creates a host on a new database of the shared test server.</summary>
    public static async Task<PostgreSqlTestHost> CreateAsync(Action<PostgreSqlSinkOptions>? configure = null, Action<IServiceCollection>? services = null) =>
        Create(await PostgresTestServer.CreateDatabaseAsync(), configure, services);

    public static PostgreSqlTestHost Create(string connectionString, Action<PostgreSqlSinkOptions>? configure = null, Action<IServiceCollection>? services = null)
    {
        var collection = new ServiceCollection();
        collection.AddLogging(b => b.AddFakeLogging().SetMinimumLevel(LogLevel.Debug));
        services?.Invoke(collection);
        // Its own storage (and spool) folder: a spool left by another test must not be delivered here.
        collection.AddEvothesisCollector(o => o.Storage.Path = Path.Combine(Path.GetTempPath(), "evothesis-pg-" + Guid.NewGuid().ToString("N")))
            .AddPostgreSqlSink(connectionString, configure);
        return new PostgreSqlTestHost(collection.BuildServiceProvider(), connectionString);
    }

    public async Task<long> CountAsync(string from = "events", string where = "true")
    {
        await using var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand($"SELECT count(*) FROM {from} WHERE {where}", connection);
        return (long)(await command.ExecuteScalarAsync())!;
    }

    public async Task<List<T>> QueryAsync<T>(string sql)
    {
        await using var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await using var reader = await command.ExecuteReaderAsync();
        var values = new List<T>();
        while (await reader.ReadAsync())
        {
            values.Add(reader.GetFieldValue<T>(0));
        }

        return values;
    }

    public async Task ExecuteAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    public async ValueTask DisposeAsync()
    {
        await _services.DisposeAsync();
        NpgsqlConnection.ClearAllPools();
    }
}
