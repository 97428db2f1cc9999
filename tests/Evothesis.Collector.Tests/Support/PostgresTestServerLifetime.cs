using Evothesis.Collector.Tests.Support;

/// <summary>Stops the shared PostgreSQL test server after the last test of the assembly.</summary>
[SetUpFixture]
public sealed class PostgresTestServerLifetime
{
    [OneTimeTearDown]
    public Task StopSharedServerAsync() => PostgresTestServer.StopAsync();
}
