using Microsoft.Extensions.Hosting;

namespace Evothesis.Collector.Batching;

/// <summary>Runs the batch flusher for the host's lifetime; stopping the host drains the queue.</summary>
internal sealed class CollectorHostedService(EventBatcher batcher) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        batcher.Start();
        return Task.CompletedTask;
    }

    // The host's shutdown token is the drain budget (HostOptions.ShutdownTimeout).
    public Task StopAsync(CancellationToken cancellationToken) => batcher.StopAsync(cancellationToken);
}
