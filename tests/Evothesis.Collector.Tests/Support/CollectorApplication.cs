using System.Net.Http.Headers;
using System.Text;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Evothesis.Collector.Tests.Support;

/// <summary>
/// The sample host in memory, with its storage in a temporary folder. Settings and services can be overridden
/// per test.
/// </summary>
public sealed class CollectorApplication : WebApplicationFactory<Program>
{
    private readonly Dictionary<string, string?> _settings = new();
    private readonly List<Action<IServiceCollection>> _services = [];

    public CollectorApplication()
    {
        Storage = new TempDirectory();
        _settings["Evothesis:Storage:Path"] = Storage.Path;

        // Answered once the first sink has the events, so a test reads it right after the answer; the other sinks
        // deliver at once too (no batching delay), and a test that reads them waits with Deliveries.AllSinksAsync.
        _settings["Evothesis:Batching:AckMode"] = "Committed";
        _settings["Evothesis:Batching:DeliveryDelay"] = "00:00:00";
        _settings["Evothesis:S3:ObjectMaxAge"] = "00:00:00";
    }

    /// <summary>Gets the folder the embedded file sink writes to.</summary>
    public TempDirectory Storage { get; }

    public CollectorApplication WithSetting(string key, string? value)
    {
        _settings[key] = value;
        return this;
    }

    public CollectorApplication WithServices(Action<IServiceCollection> configure)
    {
        _services.Add(configure);
        return this;
    }

    /// <summary>Posts a body to /collect.</summary>
    public Task<HttpResponseMessage> PostAsync(
        string body,
        string contentType = "application/json",
        string? origin = null,
        HttpClient? client = null)
    {
        var content = new StringContent(body, Encoding.UTF8);
        content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
        return PostAsync(content, origin, client);
    }

    public Task<HttpResponseMessage> PostAsync(HttpContent content, string? origin = null, HttpClient? client = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/collect") { Content = content };
        if (origin is not null)
        {
            request.Headers.Add("Origin", origin);
        }

        return (client ?? CreateClient()).SendAsync(request);
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Development");

        // Host settings too, which Program.cs sees before Build(): it picks the sink packages from them (CLIENT_S3_BUCKET).
        foreach (var (key, value) in _settings)
        {
            if (value is not null)
            {
                builder.UseSetting(key, value);
            }
        }

        builder.ConfigureAppConfiguration(configuration => configuration.AddInMemoryCollection(_settings));
        builder.ConfigureTestServices(services =>
        {
            foreach (var configure in _services)
            {
                configure(services);
            }
        });
    }

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        if (disposing)
        {
            Storage.Dispose();
        }
    }
}
