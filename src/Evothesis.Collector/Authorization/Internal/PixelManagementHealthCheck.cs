using System.Globalization;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Evothesis.Collector.Authorization.Internal;

/// <summary>
/// Reports whether pixel-management answers, by looking up a domain that never exists (through the same client,
/// resilience handler and circuit breaker as real lookups). Unreachable is degraded while cached configurations
/// keep known domains working, unhealthy when there is nothing to serve. Healthy when pixel-management is not used.
/// </summary>
internal sealed class PixelManagementHealthCheck(IDomainAuthorizer authorizer) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        if (authorizer is not HttpDomainAuthorizer http)
        {
            return HealthCheckResult.Healthy(
                $"pixel-management is not used: domains are authorized by {authorizer.GetType().Name}.",
                new Dictionary<string, object> { ["authorizer"] = authorizer.GetType().Name });
        }

        var answer = await http.ProbeAsync(cancellationToken).ConfigureAwait(false);
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
}
