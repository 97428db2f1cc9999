using Evothesis.Collector.Batching;
using Evothesis.Collector.Privacy.Internal;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Evothesis.Collector.Diagnostics;

/// <summary>
/// Reports whether events are flowing: unhealthy when the flusher is not running, the sinks are failing or the
/// audit trail is failing (audited requests are then refused), degraded when the queue is more than 80% full.
/// </summary>
internal sealed class CollectorHealthCheck(EventBatcher batcher, AuditTrail? audit = null) : IHealthCheck
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
        else if (audit?.LastWriteFailed == true)
        {
            result = HealthCheckResult.Unhealthy("The most recent audit write failed: requests of audited (hipaa) clients are refused.", data: data);
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
