using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;

namespace Evothesis.Collector.Tests.Support;

/// <summary>The sample host in memory (TestServer), with its storage in a temporary folder.</summary>
internal sealed class SampleApplication(
    string environment = "Development",
    Action<IServiceCollection>? services = null,
    params (string Key, string Value)[] settings)
    : WebApplicationFactory<Program>
{
    private readonly string _storage = Directory.CreateTempSubdirectory("evothesis-sample-tests-").FullName;

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment(environment);
        builder.UseSetting("Evothesis:Storage:Path", _storage);
        builder.UseSetting("Logging:LogLevel:Default", "Warning");
        foreach (var (key, value) in settings)
        {
            builder.UseSetting(key, value);
        }

        if (services is not null)
        {
            builder.ConfigureTestServices(services);
        }
    }

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        if (disposing && Directory.Exists(_storage))
        {
            Directory.Delete(_storage, recursive: true);
        }
    }
}
