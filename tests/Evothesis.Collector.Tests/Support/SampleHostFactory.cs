using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;

namespace Evothesis.Collector.Tests.Support;

/// <summary>The sample host in memory, with its storage in a temporary folder and extra settings.</summary>
public sealed class SampleHostFactory : WebApplicationFactory<Program>
{
    private readonly Dictionary<string, string?> _settings;
    private readonly Action<IServiceCollection>? _services;
    private readonly string _storage = Path.Combine(Path.GetTempPath(), "evothesis-sample-" + Guid.NewGuid().ToString("N"));

    public SampleHostFactory(Dictionary<string, string?>? settings = null, Action<IServiceCollection>? services = null)
    {
        _settings = settings ?? [];
        _services = services;
    }

    /// <summary>A sample host whose domains are authorized by <paramref name="pixelManagementUrl"/> through the seed's variable.</summary>
    public static SampleHostFactory WithPixelManagement(string pixelManagementUrl, Dictionary<string, string?>? settings = null, Action<IServiceCollection>? services = null)
    {
        var all = new Dictionary<string, string?>(settings ?? []) { ["PIXEL_MANAGEMENT_URL"] = pixelManagementUrl };
        return new SampleHostFactory(all, services);
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Development");
        builder.UseSetting("Evothesis:Storage:Path", _storage);

        // Answered once the first sink has the events, so a test reads it right after the answer; the other sinks
        // deliver at once too (no batching delay), and a test that reads them waits with Deliveries.AllSinksAsync.
        builder.UseSetting("Evothesis:Batching:AckMode", "Committed");
        builder.UseSetting("Evothesis:Batching:DeliveryDelay", "00:00:00");
        builder.UseSetting("Evothesis:S3:ObjectMaxAge", "00:00:00");
        foreach (var (key, value) in _settings)
        {
            builder.UseSetting(key, value);
        }

        if (_services is not null)
        {
            builder.ConfigureTestServices(_services);
        }
    }

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        if (Directory.Exists(_storage))
        {
            Directory.Delete(_storage, recursive: true);
        }
    }
}
