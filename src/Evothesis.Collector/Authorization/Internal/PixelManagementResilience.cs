using Microsoft.Extensions.Http.Resilience;
using Polly;

namespace Evothesis.Collector.Authorization.Internal;

/// <summary>
/// Tunes the standard resilience handler of the pixel-management client for an interactive path: <c>/collect</c>
/// waits for a lookup at most <see cref="AuthorizationOptions.PixelManagementTimeout"/> in all, and the circuit
/// breaker, once open, answers at once. The handler's own defaults (30 s total, 2 s exponential retry delays, a
/// breaker that needs 100 calls to judge) suit batch calls, not a request a browser is waiting on.
/// </summary>
internal static class PixelManagementResilience
{
    public static void Apply(HttpStandardResilienceOptions resilience, AuthorizationOptions authorization)
    {
        resilience.TotalRequestTimeout.Timeout = authorization.PixelManagementTimeout;
        resilience.AttemptTimeout.Timeout = authorization.PixelManagementAttemptTimeout;

        var retry = resilience.Retry;
        retry.BackoffType = DelayBackoffType.Exponential;
        retry.UseJitter = true;
        retry.Delay = TimeSpan.FromMilliseconds(100);
        retry.MaxDelay = TimeSpan.FromSeconds(1);

        // A Retry-After from pixel-management (say 30 s) would spend the whole budget waiting.
        retry.ShouldRetryAfterHeader = false;
        if (authorization.PixelManagementMaxRetries > 0)
        {
            retry.MaxRetryAttempts = authorization.PixelManagementMaxRetries;
        }
        else
        {
            // Polly requires at least one attempt in the options; refusing to handle anything means none is made.
            retry.ShouldHandle = static _ => PredicateResult.False();
        }

        // With a cache in front, pixel-management sees few calls: judge it on a handful, not the default 100.
        var breaker = resilience.CircuitBreaker;
        breaker.FailureRatio = 0.5;
        breaker.MinimumThroughput = 10;
        breaker.BreakDuration = TimeSpan.FromSeconds(5);
        var attempt = authorization.PixelManagementAttemptTimeout;
        breaker.SamplingDuration = attempt * 2 > TimeSpan.FromSeconds(30) ? attempt * 2 : TimeSpan.FromSeconds(30);
    }
}
