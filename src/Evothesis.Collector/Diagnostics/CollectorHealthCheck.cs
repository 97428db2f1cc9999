using Evothesis.Collector.Batching;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Evothesis.Collector.Diagnostics;

/// <summary>
/// Reports whether events are flowing: unhealthy when the flusher is not running or the sinks are failing,
/// degraded when the queue is more than 80% full.
/// </summary>
internal sealed class CollectorHealthCheck(EventBatcher batcher) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var data = new Dictionary<string, object>
        {
            ["queued_events"] = batcher.QueuedEvents,
            ["queue_capacity"] = batcher.Capacity,
            ["sinks"] = string.Join(", ", batcher.Sinks.Select(s => s.Name)),
        };

        HealthCheckResult result;
        if (!batcher.IsRunning)
        {
            result = HealthCheckResult.Unhealthy("The batch flusher is not running.", data: data);
        }
        else if (batcher.LastWriteFailed)
        {
            result = HealthCheckResult.Unhealthy("The most recent batch write failed.", data: data);
        }
        else if (batcher.QueuedEvents > batcher.Capacity * 0.8)
        {
            result = HealthCheckResult.Degraded("The queue is more than 80% full.", data: data);
        }
        else
        {
            result = HealthCheckResult.Healthy("Events are being written.", data);
        }

        return Task.FromResult(result);
    }
}
