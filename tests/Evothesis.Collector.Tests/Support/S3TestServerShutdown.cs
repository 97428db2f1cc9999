using Evothesis.Collector.Tests.Support;

// No namespace: NUnit runs this fixture's teardown once, after every test of the assembly.
[SetUpFixture]
public sealed class S3TestServerShutdown
{
    [OneTimeTearDown]
    public Task StopSharedServerAsync() => S3TestServer.StopSharedAsync();
}
