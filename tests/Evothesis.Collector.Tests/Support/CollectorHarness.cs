using System.Net;
using System.Text;
using System.Text.Json;
using Evothesis.Collector.Authorization;
using Evothesis.Collector.Batching;
using Evothesis.Collector.Ingestion;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;

namespace Evothesis.Collector.Tests.Support;

/// <summary>
/// A collector built from the real service registrations, with a fixed set of clients, a collecting event sink,
/// an in-memory audit sink and captured logs. Batches are written as soon as a request's events arrive.
/// </summary>
public sealed class CollectorHarness : IAsyncDisposable
{
    private readonly ServiceProvider _services;
    private readonly EventBatcher _batcher;

    public CollectorHarness(
        IReadOnlyDictionary<string, ClientConfig> clients,
        Action<CollectorOptions>? configure = null,
        Action<ICollectorBuilder>? build = null,
        bool withAuditSink = true)
    {
        var services = new ServiceCollection();
        services.AddLogging(logging => logging.SetMinimumLevel(LogLevel.Trace));
        services.AddFakeLogging();
        var builder = services.AddEvothesisCollector(options =>
        {
            options.Batching.BatchSize = 1;

            // Answered once every sink has the events, so a test reads the sinks right after the answer.
            options.Batching.AckMode = AckMode.Committed;
            options.Storage.Path = Path.Combine(Path.GetTempPath(), "evothesis-harness-" + Guid.NewGuid().ToString("N"));
            configure?.Invoke(options);
        });
        builder.Services.Replace(ServiceDescriptor.Singleton<IDomainAuthorizer>(new StaticDomainAuthorizer(clients)));
        builder.AddEventSink(Sink);
        if (withAuditSink)
        {
            builder.AddAuditSink(Audit);
        }

        build?.Invoke(builder);
        _services = services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true });
        Pipeline = _services.GetRequiredService<CollectorPipeline>();
        _batcher = _services.GetRequiredService<EventBatcher>();
        _batcher.Start();
    }

    public InMemoryEventSink Sink { get; } = new();

    public InMemoryAuditSink Audit { get; } = new();

    public CollectorPipeline Pipeline { get; }

    public IServiceProvider Services => _services;

    public FakeLogCollector Logs => _services.GetFakeLogCollector();

    public MetricCollector<long> Collect(string instrument) =>
        new(_services.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>(), "Evothesis.Collector", instrument);

    public async Task<Result> PostAsync(string json, string origin, string? ip = "203.0.113.7", bool gpc = false, string? requestId = null)
    {
        var response = await Pipeline.ProcessAsync(
            new CollectorRequest
            {
                Body = new MemoryStream(Encoding.UTF8.GetBytes(json)),
                ContentType = "application/json",
                Origin = origin,
                RemoteIpAddress = ip is null ? null : IPAddress.Parse(ip),
                GlobalPrivacyControl = gpc,
                RequestId = requestId ?? Guid.NewGuid().ToString("N"),
            },
            CancellationToken.None);
        return new Result(response.StatusCode, JsonDocument.Parse(response.Body).RootElement.Clone());
    }

    public async ValueTask DisposeAsync()
    {
        // A sink a test left failing would be retried forever: what it has not taken stays in the spool.
        using (var budget = new CancellationTokenSource(TimeSpan.FromSeconds(2)))
        {
            await _batcher.StopAsync(budget.Token);
        }

        await _services.DisposeAsync();
    }

    public sealed record Result(int StatusCode, JsonElement Body)
    {
        public int Accepted => Body.TryGetProperty("accepted", out var a) ? a.GetInt32() : 0;

        public IReadOnlyList<(int Index, string Reason)> Rejected =>
            Body.TryGetProperty("rejected", out var r)
                ? r.EnumerateArray().Select(e => (e.GetProperty("index").GetInt32(), e.GetProperty("reason").GetString()!)).ToArray()
                : [];
    }
}
