using System.Globalization;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

namespace Evothesis.Collector.Authorization.Internal;

/// <summary>
/// Reports whether pixel-management answers, by looking up a domain that never exists (through the same client,
/// resilience handler and circuit breaker as real lookups). Unreachable is degraded while cached configurations
/// keep known domains working, unhealthy when there is nothing to serve. Healthy when pixel-management is not used.
/// </summary>
/// <remarks>
/// A singleton: a probe's answer is reused for <see cref="AuthorizationOptions.HealthCheckCacheDuration"/> (on the
/// authorizer's clock) and concurrent checks share one probe, so however often <c>/health</c> is asked,
/// pixel-management sees at most one probe per period. The cache figures in the report are always current.
/// </remarks>
internal sealed class PixelManagementHealthCheck(IDomainAuthorizer authorizer, IOptions<CollectorOptions> options) : IHealthCheck
{
    private readonly TimeSpan _cacheDuration = options.Value.Authorization.HealthCheckCacheDuration;
    private readonly Lock _lock = new();

    // The last probe (running or done) and when it finished; guarded by _lock.
    private Task<PixelManagementAnswer>? _probe;
    private long _answeredAt;

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        if (authorizer is not HttpDomainAuthorizer http)
        {
            return HealthCheckResult.Healthy(
                $"pixel-management is not used: domains are authorized by {authorizer.GetType().Name}.",
                new Dictionary<string, object> { ["authorizer"] = authorizer.GetType().Name });
        }

        // The probe is not the caller's: a check that gives up leaves it running for the others and the cache.
        var answer = await GetProbe(http).WaitAsync(cancellationToken).ConfigureAwait(false);
        var (sinceAnswer, sinceFailure) = http.GetHistory();
        var data = new Dictionary<string, object>
        {
            ["cached_domains"] = http.CachedDomains,
            ["cached_configurations"] = http.CachedConfigurations,
            ["cached_clients"] = http.CachedClients,
        };
        if (sinceAnswer is { } a)
        {
            data["seconds_since_answer"] = Math.Round(a.TotalSeconds, 1);
        }

        if (sinceFailure is { } f)
        {
            data["seconds_since_failure"] = Math.Round(f.TotalSeconds, 1);
        }

        if (answer.Outcome != LookupOutcome.Failed)
        {
            return HealthCheckResult.Healthy("pixel-management is answering.", data);
        }

        var reason = answer.Detail ?? answer.ErrorType ?? "no answer";
        data["error"] = answer.ErrorType ?? "unknown";
        return http.CanServeFromCache()
            ? HealthCheckResult.Degraded(
                string.Create(CultureInfo.InvariantCulture, $"pixel-management is unreachable ({reason}): serving {http.CachedConfigurations} cached client configuration(s); unknown domains are answered with 503."),
                data: data)
            : HealthCheckResult.Unhealthy(
                $"pixel-management is unreachable ({reason}) and no client configuration is cached: every request is answered with 503.",
                data: data);
    }

    private Task<PixelManagementAnswer> GetProbe(HttpDomainAuthorizer http)
    {
        lock (_lock)
        {
            if (_probe is { } probe
                && (!probe.IsCompleted || (probe.IsCompletedSuccessfully && http.Time.GetElapsedTime(_answeredAt) < _cacheDuration)))
            {
                return probe;
            }

            _probe = ProbeAsync(http);
            return _probe;
        }
    }

    private async Task<PixelManagementAnswer> ProbeAsync(HttpDomainAuthorizer http)
    {
        // Yield first, so that the probe never runs under the lock.
        await Task.Yield();
        var answer = await http.ProbeAsync(CancellationToken.None).ConfigureAwait(false);
        lock (_lock)
        {
            _answeredAt = http.Time.GetTimestamp();
        }

        return answer;
    }
}
