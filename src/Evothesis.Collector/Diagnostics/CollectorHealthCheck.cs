using Evothesis.Collector.Audit.Internal;
using Evothesis.Collector.Batching;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Evothesis.Collector.Diagnostics;

/// <summary>
/// Reports whether events can be taken and are flowing: unhealthy when the spool cannot be written (requests get 503)
/// or its consumers are not running; degraded when the spool is nearly full, a sink is failing (its events wait in the
/// spool, visitors notice nothing yet), has parked records (events it refused for good, waiting for
/// <c>evothesis-replay</c>) or lags beyond <see cref="Spool.SpoolOptions.MaxConsumerLag"/>.
/// </summary>
internal sealed class CollectorHealthCheck(EventBatcher batcher, AuditTrail? audit = null) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var spool = batcher.Spool.GetHealth();
        var data = new Dictionary<string, object>
        {
            ["spool_bytes"] = batcher.Spool.TotalBytes,
            ["spool_segments"] = batcher.Spool.SegmentCount,
            ["sinks"] = string.Join(", ", batcher.Sinks.Select(s => s.Name)),
        };
        foreach (var lag in batcher.Spool.GetConsumerLags())
        {
            data["lag_bytes:" + lag.Consumer] = lag.Bytes;
            data["lag_events:" + lag.Consumer] = lag.Events;
            data["lag_seconds:" + lag.Consumer] = Math.Round(lag.OldestAge.TotalSeconds, 1);
        }

        var parked = new List<string>();
        foreach (var consumer in batcher.Consumers)
        {
            if (consumer.Parking?.Count() is { Files: > 0 } count)
            {
                data["parked_records:" + consumer.Name] = count.Records;
                data["parked_events:" + consumer.Name] = count.Events;
                parked.Add($"{consumer.Destination} has {count.Records} parked request(s) ({count.Events} events) in {consumer.Parking.Folder}");
            }
        }

        var failing = batcher.Consumers.Where(c => c.IsFailing).Select(c => c.Destination).ToList();
        HealthCheckResult result;
        if (spool.Status == HealthStatus.Unhealthy)
        {
            result = HealthCheckResult.Unhealthy(spool.Description, data: data);
        }
        else if (!batcher.IsRunning)
        {
            result = HealthCheckResult.Unhealthy("The spool's consumers are not running.", data: data);
        }
        else if (failing.Count > 0)
        {
            result = HealthCheckResult.Degraded(
                $"Failing, retrying from the spool: {string.Join(", ", failing)}. Requests are still accepted.", data: data);
        }
        else if (parked.Count > 0)
        {
            result = HealthCheckResult.Degraded(
                $"Sinks refused events for good: {string.Join("; ", parked)}. Replay them with evothesis-replay --source parked once the cause is fixed.",
                data: data);
        }
        else if (spool.Status == HealthStatus.Degraded)
        {
            result = HealthCheckResult.Degraded(spool.Description, data: data);
        }
        else if (audit?.LastWriteFailed == true)
        {
            result = HealthCheckResult.Degraded("The most recent audit write failed; audit records wait in the spool.", data: data);
        }
        else
        {
            result = HealthCheckResult.Healthy("Events are being spooled and delivered.", data);
        }

        return Task.FromResult(result);
    }
}
