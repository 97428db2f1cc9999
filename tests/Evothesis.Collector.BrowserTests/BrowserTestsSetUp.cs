using Evothesis.Collector.BrowserTests.Support;

namespace Evothesis.Collector.BrowserTests;

/// <summary>Starts the shared environment before the first browser test and stops it after the last.</summary>
[SetUpFixture]
public sealed class BrowserTestsSetUp
{
    [OneTimeSetUp]
    public Task StartAsync() => BrowserTestEnvironment.StartAsync();

    [OneTimeTearDown]
    public Task StopAsync() => BrowserTestEnvironment.StopAsync();
}
