using Evothesis.Collector.Batching.Internal;
using Microsoft.Extensions.Hosting;

namespace Evothesis.Collector.Nats.Internal;

/// <summary>
/// Creates the stream as the collector starts, in the background, retrying with backoff until it succeeds: the first
/// requests then find it ready instead of waiting for its creation (a replicated stream elects a leader first). The
/// host's start does not wait for it; a write before it is done creates the stream itself.
/// </summary>
internal sealed class NatsStreamInitializer(NatsConnectionSource source, TimeProvider time) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var backoff = new RetryBackoff(TimeSpan.FromMilliseconds(200), TimeSpan.FromSeconds(10));
        for (var attempt = 1; !stoppingToken.IsCancellationRequested; attempt++)
        {
            try
            {
                await source.EnsureStreamAsync(stoppingToken).ConfigureAwait(false);
                return;
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception)
            {
                // Logged by the source; the sink's writes report the outage too.
                await Task.Delay(backoff.Delay(attempt, Random.Shared.NextDouble()), time, stoppingToken).ConfigureAwait(false);
            }
        }
    }
}
