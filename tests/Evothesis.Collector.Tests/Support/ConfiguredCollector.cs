using System.Text;
using Evothesis.Collector.Authorization;
using Evothesis.Collector.Ingestion;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Time.Testing;

namespace Evothesis.Collector.Tests.Support;

/// <summary>
/// The collector as a host builds it from configuration (root keys such as CLIENT_S3_BUCKET and the Evothesis section), without HTTP: requests go
/// straight to <see cref="CollectorPipeline"/>. Time is a <see cref="FakeTimeProvider"/>; logs are collected.
/// </summary>
public sealed class ConfiguredCollector : IAsyncDisposable
{
    private readonly ServiceProvider _services;
    private readonly IHostedService[] _hosted;

    private ConfiguredCollector(ServiceProvider services, IHostedService[] hosted, FakeTimeProvider time, FakeLogCollector logs, string dataPath)
    {
        _services = services;
        _hosted = hosted;
        Time = time;
        Logs = logs;
        DataPath = dataPath;
    }

    public FakeTimeProvider Time { get; }

    public FakeLogCollector Logs { get; }

    /// <summary>The local storage folder (Evothesis:Storage:Path), removed on dispose.</summary>
    public string DataPath { get; }

    public IServiceProvider Services => _services;

    public static async Task<ConfiguredCollector> StartAsync(
        IDictionary<string, string?> configuration,
        IReadOnlyDictionary<string, ClientConfig> clients,
        DateTimeOffset now,
        Action<ICollectorBuilder>? configure = null,
        Action<IServiceCollection>? services = null)
    {
        var dataPath = Directory.CreateTempSubdirectory("evothesis-harness-").FullName;
        var settings = new Dictionary<string, string?>(configuration)
        {
            ["Evothesis:Storage:Path"] = dataPath,
        };
        settings.TryAdd("Evothesis:Batching:BatchSize", "2");

        // Answered once the first sink has the events, so a test reads it right after the answer (another sink, after
        // Deliveries.AllSinksAsync). Tests of the default (answered from the spool) set Durable.
        settings.TryAdd("Evothesis:Batching:AckMode", "Committed");

        // The clock is fake: a sink's pause between small batches, or an object waiting for more events, would never end.
        settings.TryAdd("Evothesis:Batching:DeliveryDelay", "00:00:00");
        settings.TryAdd("Evothesis:S3:ObjectMaxAge", "00:00:00");
        settings.TryAdd("Evothesis:Storage:ObjectMaxAge", "00:00:00");
        var root = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();

        var time = new FakeTimeProvider(now);
        var logs = new FakeLogCollector();
        var collection = new ServiceCollection();
        collection.AddSingleton<IConfiguration>(root);
        collection.AddSingleton<TimeProvider>(time);
        collection.AddSingleton<IDomainAuthorizer>(new StaticDomainAuthorizer(clients));
        collection.AddLogging(b => b.AddProvider(new FakeLoggerProvider(logs)).SetMinimumLevel(LogLevel.Debug));
        services?.Invoke(collection);
        // With every package a host can add: the S3 buckets when the settings name them (CLIENT_S3_BUCKET, Evothesis:S3:*).
        var builder = collection.AddEvothesisCollector(root.GetSection("Evothesis")).AddS3ObjectStorage();
        configure?.Invoke(builder);

        var provider = collection.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true, ValidateScopes = true });
        var hosted = provider.GetServices<IHostedService>().ToArray();
        try
        {
            // What the host does first: validate options marked ValidateOnStart.
            provider.GetRequiredService<Microsoft.Extensions.Options.IStartupValidator>().Validate();
            foreach (var service in hosted)
            {
                await service.StartAsync(CancellationToken.None);
            }
        }
        catch
        {
            await provider.DisposeAsync();
            Directory.Delete(dataPath, recursive: true);
            throw;
        }

        return new ConfiguredCollector(provider, hosted, time, logs, dataPath);
    }

    public T GetRequiredService<T>()
        where T : notnull => _services.GetRequiredService<T>();

    /// <summary>Posts a JSON body from a page of <paramref name="domain"/>.</summary>
    public async Task<CollectorResponse> PostAsync(string domain, string json)
    {
        var pipeline = _services.GetRequiredService<CollectorPipeline>();
        var body = Encoding.UTF8.GetBytes(json);
        return await pipeline.ProcessAsync(
            new CollectorRequest
            {
                Body = new MemoryStream(body),
                ContentLength = body.Length,
                ContentType = "application/json",
                Origin = "https://" + domain,
                UserAgent = "harness",
                RemoteIpAddress = System.Net.IPAddress.Parse("203.0.113.9"),
            },
            CancellationToken.None);
    }

    /// <summary>Posts one event per domain at the same time, so they share one batch (with BatchSize = the number of domains).</summary>
    public async Task<CollectorResponse[]> PostTogetherAsync(params (string Domain, string Json)[] requests) =>
        await Task.WhenAll(requests.Select(r => PostAsync(r.Domain, r.Json)));

    public async ValueTask DisposeAsync()
    {
        foreach (var service in _hosted.Reverse())
        {
            // A sink a test left failing would be retried forever: what it has not taken stays in the spool.
            using var budget = new CancellationTokenSource(TimeSpan.FromSeconds(2));
            await service.StopAsync(budget.Token);
        }

        await _services.DisposeAsync();
        Directory.Delete(DataPath, recursive: true);
    }
}
