using Evothesis.Collector.Testing;

namespace Evothesis.Collector.Tests.Support;

/// <summary>
/// The PostgreSQL server the tests share: started on first use (so test runs that never touch PostgreSQL do not
/// pay for it), stopped and deleted after the last test by <see cref="PostgresTestServerLifetime"/>. Each test or
/// fixture takes its own database with <see cref="CreateDatabaseAsync"/>. When PostgreSQL is not installed the
/// tests that need it fail with a message pointing at <c>./test.sh</c>.
/// </summary>
/// <example>
/// <code>
/// var connectionString = await PostgresTestServer.CreateDatabaseAsync();
/// </code>
/// </example>
public static class PostgresTestServer
{
    private static readonly SemaphoreSlim Gate = new(1, 1);
    private static PostgresServer? _shared;

    /// <summary>Gets the shared server, starting it on first use.</summary>
    public static async Task<PostgresServer> GetAsync()
    {
        await Gate.WaitAsync();
        try
        {
            if (_shared is null)
            {
                _shared = await PostgresServer.StartNewAsync();
                AppDomain.CurrentDomain.ProcessExit += (_, _) => StopAsync().GetAwaiter().GetResult();
            }

            return _shared;
        }
        finally
        {
            Gate.Release();
        }
    }

    /// <summary>Creates an empty database on the shared server and returns its connection string.</summary>
    public static async Task<string> CreateDatabaseAsync() => await (await GetAsync()).CreateDatabaseAsync();

    /// <summary>
    /// Starts a server of the caller's own, for tests that stop and start it. The caller disposes it.
    /// </summary>
    public static Task<PostgresServer> StartDedicatedAsync() => PostgresServer.StartNewAsync();

    internal static async Task StopAsync()
    {
        await Gate.WaitAsync();
        try
        {
            if (_shared is not null)
            {
                await _shared.DisposeAsync();
                _shared = null;
            }
        }
        finally
        {
            Gate.Release();
        }
    }
}
