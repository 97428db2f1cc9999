using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Evothesis.Collector.Sinks.PostgreSql.Internal;

/// <summary>
/// The one <see cref="NpgsqlDataSource"/> the sink, the recent-events store, the audit sink and the health check
/// share. Disposed with the container only when the collector built it.
/// </summary>
internal sealed class PostgreSqlConnectionSource : IAsyncDisposable, IDisposable
{
    private readonly bool _owned;

    public PostgreSqlConnectionSource(NpgsqlDataSource dataSource, bool owned)
    {
        DataSource = dataSource;
        _owned = owned;
    }

    public NpgsqlDataSource DataSource { get; }

    /// <summary>
    /// Picks the connection: <see cref="PostgreSqlSinkOptions.ConnectionString"/>, else a registered
    /// <see cref="NpgsqlDataSource"/>, else <c>ConnectionStrings:Evothesis</c>.
    /// </summary>
    public static PostgreSqlConnectionSource Create(IServiceProvider services)
    {
        var options = services.GetRequiredService<IOptions<PostgreSqlSinkOptions>>().Value;
        if (!string.IsNullOrWhiteSpace(options.ConnectionString))
        {
            return new PostgreSqlConnectionSource(Build(options.ConnectionString), owned: true);
        }

        if (services.GetService<NpgsqlDataSource>() is { } registered)
        {
            return new PostgreSqlConnectionSource(registered, owned: false);
        }

        var fromConfiguration = services.GetService<IConfiguration>()?.GetConnectionString(PostgreSqlSinkOptions.ConnectionStringName);
        if (!string.IsNullOrWhiteSpace(fromConfiguration))
        {
            return new PostgreSqlConnectionSource(Build(fromConfiguration), owned: true);
        }

        throw new InvalidOperationException(
            "The Evothesis PostgreSQL sink has no connection: set the connection string 'ConnectionStrings:Evothesis' " +
            "(environment variable ConnectionStrings__Evothesis) or 'Evothesis:PostgreSql:ConnectionString', pass one to " +
            "AddPostgreSqlSink(connectionString), or register an NpgsqlDataSource.");
    }

    public ValueTask DisposeAsync() => _owned ? DataSource.DisposeAsync() : ValueTask.CompletedTask;

    // Hosts and tests that dispose the container synchronously must not get an exception for it.
    public void Dispose()
    {
        if (_owned)
        {
            DataSource.Dispose();
        }
    }

    private static NpgsqlDataSource Build(string connectionString)
    {
        NpgsqlConnectionStringBuilder settings;
        try
        {
            settings = new NpgsqlConnectionStringBuilder(connectionString);
        }
        catch (ArgumentException ex)
        {
            // The message would quote the connection string, password included.
            throw new InvalidOperationException("The Evothesis PostgreSQL connection string is not valid: " + ex.ParamName, null);
        }

        if (string.IsNullOrEmpty(settings.ApplicationName))
        {
            // Shows the collector's sessions as such in pg_stat_activity.
            settings.ApplicationName = "Evothesis.Collector";
        }

        return new NpgsqlSlimDataSourceBuilder(settings.ConnectionString)
            .EnableArrays()
            .Build();
    }
}
