using System.Diagnostics.Metrics;
using Evothesis.Collector.Diagnostics;

namespace Evothesis.Collector.Authorization.Internal;

/// <summary>
/// Instruments of domain authorization against pixel-management, on the collector's meter. Tags carry outcomes
/// and error types only, never domains: a flood of made-up origins must not create a flood of time series.
/// </summary>
internal sealed class AuthorizationMetrics
{
    public const string Hit = "hit";
    public const string Miss = "miss";
    public const string Stale = "stale";

    // Lookups of domains (every /collect request) and of client ids (the client directory) are told apart, so that
    // tracking-script loads do not blur the hit ratio of the collect path. Tags are preallocated: no boxing on hits.
    private static readonly KeyValuePair<string, object?> DomainTag = new("lookup", "domain");
    private static readonly KeyValuePair<string, object?> ClientTag = new("lookup", "client");
    private static readonly KeyValuePair<string, object?> HitTag = new("result", Hit);
    private static readonly KeyValuePair<string, object?> MissTag = new("result", Miss);
    private static readonly KeyValuePair<string, object?> StaleTag = new("result", Stale);
    private static readonly KeyValuePair<string, object?> ClientBudgetTag = new("reason", "client_budget");
    private static readonly KeyValuePair<string, object?> GlobalBudgetTag = new("reason", "global_budget");

    private readonly Counter<long> _cacheLookups;
    private readonly Histogram<double> _upstreamDuration;
    private readonly Counter<long> _upstreamFailures;
    private readonly Counter<long> _preflights;
    private readonly Counter<long> _throttled;

    public AuthorizationMetrics(CollectorMetrics metrics)
    {
        var meter = metrics.Meter;
        _cacheLookups = meter.CreateCounter<long>(
            "evothesis.collector.authorization.cache.lookups", "{lookup}",
            "Domain authorizations and client lookups answered from the cache (hit), by asking pixel-management (miss), or from a configuration past its TTL while pixel-management fails (stale), by lookup (domain, client).");
        _upstreamDuration = meter.CreateHistogram<double>(
            "evothesis.collector.authorization.upstream.duration", "s",
            "Time one pixel-management lookup took, retries included, by lookup (domain, client) and outcome.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5] });
        _upstreamFailures = meter.CreateCounter<long>(
            "evothesis.collector.authorization.upstream.failures", "{lookup}",
            "pixel-management lookups that failed, by lookup (domain, client) and error type (timeout, circuit_open, http status, network, invalid_response).");
        _preflights = meter.CreateCounter<long>(
            "evothesis.collector.cors.preflights", "{request}",
            "CORS preflight requests, by outcome (granted, unauthorized, unavailable, throttled, invalid_origin).");
        _throttled = meter.CreateCounter<long>(
            "evothesis.collector.authorization.lookups.throttled", "{lookup}",
            "Lookups of domains and client ids the cache does not hold that were not made because a lookup budget was spent, by lookup (domain, client) and reason (client_budget: answered 429, global_budget: answered 503).");
    }

    public void CacheLookup(LookupKind kind, string result)
    {
        if (_cacheLookups.Enabled)
        {
            _cacheLookups.Add(
                1,
                result switch
                {
                    Hit => HitTag,
                    Miss => MissTag,
                    _ => StaleTag,
                },
                KindTag(kind));
        }
    }

    public void UpstreamCompleted(LookupKind kind, string outcome, TimeSpan duration)
    {
        if (_upstreamDuration.Enabled)
        {
            _upstreamDuration.Record(duration.TotalSeconds, KindTag(kind), new KeyValuePair<string, object?>("outcome", outcome));
        }
    }

    public void UpstreamFailed(LookupKind kind, string errorType)
    {
        if (_upstreamFailures.Enabled)
        {
            _upstreamFailures.Add(1, KindTag(kind), new KeyValuePair<string, object?>("error.type", errorType));
        }
    }

    public void LookupThrottled(LookupKind kind, LookupBudgetScope scope)
    {
        if (_throttled.Enabled)
        {
            _throttled.Add(1, KindTag(kind), scope == LookupBudgetScope.Global ? GlobalBudgetTag : ClientBudgetTag);
        }
    }

    public void Preflight(string outcome)
    {
        if (_preflights.Enabled)
        {
            _preflights.Add(1, new KeyValuePair<string, object?>("outcome", outcome));
        }
    }

    public void ObserveCacheSize(Func<long> size) =>
        _cacheLookups.Meter.CreateObservableGauge(
            "evothesis.collector.authorization.cache.size", size, "{entry}", "Domains and client ids held in the authorization cache.");

    private static KeyValuePair<string, object?> KindTag(LookupKind kind) => kind == LookupKind.Client ? ClientTag : DomainTag;
}
