using Evothesis.Collector.Batching;
using Evothesis.Collector.Sinks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Evothesis.Collector.Nats.Internal;

/// <summary>
/// Runs one <see cref="NatsSinkLoader"/> per sink of the collector's configuration (PostgreSQL, the client bucket, the
/// backup bucket, a host's own sinks), each on its own durable consumer, from start to stop.
/// </summary>
internal sealed class NatsLoaderService : BackgroundService
{
    private readonly NatsSinkLoader[] _loaders;

    public NatsLoaderService(
        SinkSet sinks,
        NatsConnectionSource source,
        IOptions<NatsLoaderOptions> options,
        IOptions<CollectorOptions> collector,
        TimeProvider time,
        ILoggerFactory loggerFactory)
    {
        // The loader must not publish what it reads back to the stream it reads.
        var targets = sinks.Sinks.Where(s => s is not NatsJetStreamEventSink).ToArray();
        var names = EventBatcher.ConsumerNames(targets);
        var logger = loggerFactory.CreateLogger<NatsLoaderService>();
        _loaders = targets
            .Select((sink, i) => new NatsSinkLoader(sink, names[i], source, options.Value, collector.Value.Batching, time, logger))
            .ToArray();
    }

    /// <summary>Gets the loaders, one per sink.</summary>
    public IReadOnlyList<NatsSinkLoader> Loaders => _loaders;

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        Task.WhenAll(_loaders.Select(l => Task.Run(() => l.RunAsync(stoppingToken), CancellationToken.None)));
}
