using System.Collections.Concurrent;
using System.Net;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Evothesis.Collector.Authorization.Internal;

/// <summary>
/// Authorizes domains, and looks clients up by id, by asking pixel-management, with an in-memory cache in front of
/// it so that pixel-management is neither the collector's bottleneck nor its single point of failure.
/// </summary>
/// <remarks>
/// Domains (<c>/api/v1/config/domain/{domain}</c>) and client ids (<c>/api/v1/config/client/{client_id}</c>) share
/// the one cache, its bound and its view of whether pixel-management is failing; their keys cannot collide (client
/// keys carry a prefix with a character no domain has).
/// <list type="bullet">
/// <item>A configuration is used for <see cref="AuthorizationOptions.PositiveCacheDuration"/>, a refusal or an
/// unknown client for <see cref="AuthorizationOptions.NegativeCacheDuration"/>; then pixel-management is asked again.</item>
/// <item>One lookup per domain or client at a time, however many requests wait for it (single flight).</item>
/// <item>While pixel-management fails, a configuration past its TTL is served as it was, for up to
/// <see cref="AuthorizationOptions.StaleCacheLimit"/> after pixel-management last confirmed it, and refreshed in the
/// background. A domain with nothing to serve is <see cref="DomainAuthorizationStatus.Unavailable"/>, a client lookup
/// throws <see cref="ClientDirectoryUnavailableException"/>: never a guess.</item>
/// <item>The cache is bounded (<see cref="AuthorizationOptions.CacheSizeLimit"/> entries); refusals are evicted first.</item>
/// <item>Only normalised domains and plain client ids (<see cref="ClientIds"/>) are cached or placed in a URL.</item>
/// <item>Lookups that would call pixel-management for what the cache does not hold are budgeted, globally and per client
/// address (<see cref="AuthorizationOptions.LookupBudget"/>): beyond it a domain is
/// <see cref="DomainAuthorizationStatus.Throttled"/>. Joining a lookup in flight and refreshing a configuration are free.</item>
/// </list>
/// Expiry is computed from the <see cref="TimeProvider"/>'s timestamps stored in each entry: the memory cache's own
/// expiration only reclaims memory.
/// </remarks>
internal sealed class HttpDomainAuthorizer : IDomainAuthorizer, IClientDirectory, IDisposable
{
    /// <summary>A domain reserved never to exist (RFC 2606), looked up to probe pixel-management.</summary>
    public const string ProbeDomain = "evothesis-health-check.invalid";

    /// <summary>How often a domain served stale is refreshed in the background while pixel-management fails.</summary>
    public static readonly TimeSpan RefreshRetryInterval = TimeSpan.FromSeconds(5);

    /// <summary>How often, at most, lookups refused by the budget are reported with a warning (the others at debug level).</summary>
    public static readonly TimeSpan ThrottleReportInterval = TimeSpan.FromSeconds(10);

    // Prefix of the cache keys of client lookups: ':' is in no normalised domain and in no client id.
    private const string ClientKeyPrefix = "client:";

    private readonly Func<PixelManagementClient> _clients;
    private readonly AuthorizationOptions _options;
    private readonly TimeSpan _retryAfter;
    private readonly TimeProvider _time;
    private readonly AuthorizationMetrics _metrics;
    private readonly ILogger _logger;
    private readonly MemoryCache _cache;
    private readonly long _positiveTtl;
    private readonly long _negativeTtl;
    private readonly long _staleLimit;
    private readonly long _refreshRetryInterval;
    private readonly long _throttleReportInterval;

    // Null when the budget is turned off.
    private readonly LookupBudget? _budget;

    // Lookups in flight, by cache key: the single flight. Added by the first request that misses, removed by the lookup.
    private readonly ConcurrentDictionary<string, Task<CacheEntry?>> _lookups = new(StringComparer.Ordinal);

    // Cancels lookups in flight when the authorizer is disposed.
    private readonly CancellationTokenSource _disposed = new();

    // Timestamp until which pixel-management counts as failing: expired configurations are then served stale at
    // once instead of making requests wait for a lookup that is likely to fail. Written by lookups, read by requests.
    private long _failingUntil;

    // 1 from a failed lookup until the next answer, for the "answering again" log line.
    private int _failing;

    // For the health check: the last answer and failure (timestamps; 0 = never), the domain configurations held (what
    // keeps /collect working through an outage) and the client lookups held. Counters move with the cache's eviction
    // callbacks, which run shortly after an eviction.
    private long _lastAnswer;
    private long _lastFailure;
    private long _newestConfirmation;
    private long _positiveEntries;
    private long _clientEntries;

    // Lookups refused by the budget since the last warning, and when the next warning may be logged.
    private long _throttledByClient;
    private long _throttledGlobally;
    private long _nextThrottleReportAt;

    private int _disposedFlag;

    public HttpDomainAuthorizer(
        Func<PixelManagementClient> clients,
        IOptions<CollectorOptions> options,
        TimeProvider timeProvider,
        AuthorizationMetrics metrics,
        ILogger<HttpDomainAuthorizer> logger)
    {
        _clients = clients;
        _options = options.Value.Authorization;
        _retryAfter = options.Value.RetryAfter;
        _time = timeProvider;
        _metrics = metrics;
        _logger = logger;
        _cache = new MemoryCache(new MemoryCacheOptions { SizeLimit = _options.CacheSizeLimit, CompactionPercentage = 0.1 });
        _positiveTtl = ToTimestampTicks(_options.PositiveCacheDuration);
        _negativeTtl = ToTimestampTicks(_options.NegativeCacheDuration);
        _staleLimit = ToTimestampTicks(_options.StaleCacheLimit);
        _refreshRetryInterval = ToTimestampTicks(RefreshRetryInterval);
        _throttleReportInterval = ToTimestampTicks(ThrottleReportInterval);
        _budget = _options.LookupBudget.Enabled ? new LookupBudget(_options.LookupBudget, timeProvider) : null;
        metrics.ObserveCacheSize(() => _cache.Count);

        if (PixelManagementUri.TryCreate(_options.PixelManagementUrl, out var baseUri, out _))
        {
            AuthorizationLog.UsingPixelManagement(logger, baseUri.ToString(), _options.PositiveCacheDuration, _options.NegativeCacheDuration);
        }
    }

    /// <summary>Gets the number of domains in the cache (configurations and refusals).</summary>
    public int CachedDomains => (int)Math.Max(0, _cache.Count - Interlocked.Read(ref _clientEntries));

    /// <summary>Gets the number of client ids in the cache (configurations and unknown clients).</summary>
    public long CachedClients => Interlocked.Read(ref _clientEntries);

    /// <summary>Gets the number of domains' client configurations in the cache.</summary>
    public long CachedConfigurations => Interlocked.Read(ref _positiveEntries);

    /// <summary>Gets the clock the cache and the budget run on.</summary>
    public TimeProvider Time => _time;

    public ValueTask<DomainAuthorization> AuthorizeAsync(string domain, CancellationToken cancellationToken) =>
        AuthorizeAsync(domain, clientAddress: null, cancellationToken);

    public ValueTask<DomainAuthorization> AuthorizeAsync(string domain, IPAddress? clientAddress, CancellationToken cancellationToken)
    {
        // Only normalised names reach the cache key space and the URL path, whoever calls.
        if (!DomainName.IsNormalized(domain))
        {
            AuthorizationLog.NotNormalized(_logger, domain?.Length ?? 0);
            return ValueTask.FromResult(DomainAuthorization.Unauthorized);
        }

        var entry = _cache.TryGetValue(domain, out var cached) ? cached as CacheEntry : null;
        return Serve(LookupKind.Domain, domain, entry, clientAddress, cancellationToken);
    }

    public ValueTask<ClientConfig?> FindClientAsync(string clientId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(clientId);

        // The id comes from a URL anyone can request: only plain identifiers reach the cache and pixel-management.
        if (!ClientIds.IsValid(clientId))
        {
            AuthorizationLog.InvalidClientId(_logger, clientId.Length);
            return new ValueTask<ClientConfig?>((ClientConfig?)null);
        }

        // The key is built on the stack and looked up as a span: a hit allocates nothing.
        Span<char> key = stackalloc char[ClientKeyPrefix.Length + clientId.Length];
        ClientKeyPrefix.CopyTo(key);
        clientId.CopyTo(key[ClientKeyPrefix.Length..]);
        var entry = _cache.TryGetValue((ReadOnlySpan<char>)key, out var cached) ? cached as CacheEntry : null;

        // A client lookup has no sender address here: it counts against the global budget only.
        var pending = Serve(LookupKind.Client, clientId, entry, clientAddress: null, cancellationToken);
        return pending.IsCompletedSuccessfully ? ToClient(pending.Result) : AwaitClientAsync(pending);
    }

    /// <summary>Asks pixel-management about a domain that never exists, bypassing the cache.</summary>
    /// <returns>The answer: anything but <see cref="LookupOutcome.Failed"/> means pixel-management is reachable.</returns>
    public async Task<PixelManagementAnswer> ProbeAsync(CancellationToken cancellationToken)
    {
        var started = _time.GetTimestamp();
        PixelManagementAnswer answer;
        try
        {
            answer = await _clients().LookupDomainAsync(ProbeDomain, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            answer = PixelManagementAnswer.Failure("unexpected", ex.GetType().Name);
        }

        var now = _time.GetTimestamp();
        if (answer.Outcome == LookupOutcome.Failed)
        {
            _metrics.UpstreamFailed(LookupKind.Domain, answer.ErrorType ?? "unknown");
            RecordFailure(now);
        }
        else
        {
            RecordAnswer(now);
        }

        _metrics.UpstreamCompleted(LookupKind.Domain, Outcome(answer), _time.GetElapsedTime(started, now));
        return answer;
    }

    /// <summary>Tells whether cached configurations can be served while pixel-management fails.</summary>
    public bool CanServeFromCache()
    {
        var newest = Interlocked.Read(ref _newestConfirmation);
        return CachedConfigurations > 0 && newest != 0 && _time.GetTimestamp() - newest < _staleLimit;
    }

    /// <summary>Gets how long ago pixel-management last answered, and last failed.</summary>
    public (TimeSpan? SinceAnswer, TimeSpan? SinceFailure) GetHistory()
    {
        var answer = Interlocked.Read(ref _lastAnswer);
        var failure = Interlocked.Read(ref _lastFailure);
        return (answer == 0 ? null : _time.GetElapsedTime(answer), failure == 0 ? null : _time.GetElapsedTime(failure));
    }

    /// <summary>Gets the lookup of a domain in flight, if any (tests wait for background refreshes with it).</summary>
    internal Task? GetLookupInFlight(string domain) => _lookups.TryGetValue(domain, out var task) ? task : null;

    /// <summary>Gets the lookup of a client id in flight, if any.</summary>
    internal Task? GetClientLookupInFlight(string clientId) =>
        _lookups.TryGetValue(ClientKeyPrefix + clientId, out var task) ? task : null;

    // The container may dispose it twice: as itself and as the IDomainAuthorizer it resolves to.
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposedFlag, 1) != 0)
        {
            return;
        }

        _disposed.Cancel();
        _disposed.Dispose();
        _cache.Dispose();
    }

    private static string Outcome(PixelManagementAnswer answer) => answer.Outcome switch
    {
        LookupOutcome.Authorized => "authorized",
        LookupOutcome.NotFound => "not_found",
        LookupOutcome.Invalid => "invalid",
        _ => "failure",
    };

    // A domain's answer as the directory tells it: a configuration, no such client, or "ask again later".
    private ValueTask<ClientConfig?> ToClient(DomainAuthorization result) => result.Status switch
    {
        DomainAuthorizationStatus.Authorized => new ValueTask<ClientConfig?>(result.Client),
        DomainAuthorizationStatus.Unauthorized => new ValueTask<ClientConfig?>((ClientConfig?)null),
        DomainAuthorizationStatus.Throttled => ValueTask.FromException<ClientConfig?>(new ClientDirectoryUnavailableException(
            "Too many clients that are not cached are being looked up right now; try again later.")
        {
            RetryAfter = result.RetryAfter ?? _retryAfter,
        }),
        _ => ValueTask.FromException<ClientConfig?>(new ClientDirectoryUnavailableException(
            "pixel-management cannot be asked for the client's configuration now, and none is cached; try again later.")
        {
            RetryAfter = result.RetryAfter ?? _retryAfter,
        }),
    };

    private async ValueTask<ClientConfig?> AwaitClientAsync(ValueTask<DomainAuthorization> pending) =>
        await ToClient(await pending.ConfigureAwait(false)).ConfigureAwait(false);

    // The cache's answer for a domain or a client id whose entry (if any) the caller looked up: fresh, stale while
    // pixel-management fails, or a lookup. Synchronous and allocation-free unless pixel-management must be asked.
    private ValueTask<DomainAuthorization> Serve(LookupKind kind, string value, CacheEntry? entry, IPAddress? clientAddress, CancellationToken cancellationToken)
    {
        var now = _time.GetTimestamp();
        if (entry is not null)
        {
            if (now < entry.FreshUntil)
            {
                _metrics.CacheLookup(kind, AuthorizationMetrics.Hit);
                return ValueTask.FromResult(entry.Result);
            }

            if (entry.CanServeStale(now) && (entry.Failing || now < Volatile.Read(ref _failingUntil)))
            {
                _metrics.CacheLookup(kind, AuthorizationMetrics.Stale);
                RefreshInBackground(kind, value, entry, now);
                return ValueTask.FromResult(entry.Result);
            }
        }

        return LookupAsync(new LookupKey(kind, value), entry, clientAddress, cancellationToken);
    }

    private async ValueTask<DomainAuthorization> LookupAsync(LookupKey key, CacheEntry? previous, IPAddress? clientAddress, CancellationToken cancellationToken)
    {
        // Refreshing a configuration pixel-management gave costs no budget: there are only as many as clients' domains,
        // and a flood of made-up ones must not stop known sites from being confirmed.
        var lookup = GetOrStartLookup(key, previous, budgeted: previous is not { IsPositive: true }, clientAddress, out var refusal);
        if (lookup is null)
        {
            return Throttle(key.Kind, refusal);
        }

        // The waiting request may give up; the lookup goes on for the others and fills the cache.
        var entry = await lookup.WaitAsync(cancellationToken).ConfigureAwait(false);
        if (entry is not null)
        {
            _metrics.CacheLookup(key.Kind, AuthorizationMetrics.Miss);
            return entry.Result;
        }

        var now = _time.GetTimestamp();
        if (previous is { IsPositive: true })
        {
            if (previous.CanServeStale(now))
            {
                _metrics.CacheLookup(key.Kind, AuthorizationMetrics.Stale);
                return previous.Result;
            }

            var age = _time.GetElapsedTime(previous.ConfirmedAt, now);
            if (key.Kind == LookupKind.Domain)
            {
                AuthorizationLog.StaleLimitReached(_logger, key.Value, age, _options.StaleCacheLimit);
            }
            else
            {
                AuthorizationLog.ClientStaleLimitReached(_logger, key.Value, age, _options.StaleCacheLimit);
            }
        }

        _metrics.CacheLookup(key.Kind, AuthorizationMetrics.Miss);
        return DomainAuthorization.Unavailable(_retryAfter);
    }

    private void RefreshInBackground(LookupKind kind, string value, CacheEntry entry, long now)
    {
        var next = Volatile.Read(ref entry.NextRefreshAt);
        if (now < next || Interlocked.CompareExchange(ref entry.NextRefreshAt, now + _refreshRetryInterval, next) != next)
        {
            return;
        }

        _ = GetOrStartLookup(new LookupKey(kind, value), entry, budgeted: false, clientAddress: null, out _);
    }

    // Joins the lookup in flight for the key, or starts one if the budget allows (null and the refusal otherwise).
    private Task<CacheEntry?>? GetOrStartLookup(
        LookupKey key,
        CacheEntry? previous,
        bool budgeted,
        IPAddress? clientAddress,
        out LookupBudgetDecision refusal)
    {
        refusal = default;
        while (true)
        {
            if (_lookups.TryGetValue(key.CacheKey, out var running))
            {
                return running;
            }

            var charged = budgeted && _budget is not null;
            if (charged)
            {
                var decision = _budget!.TryAcquire(clientAddress);
                if (!decision.IsGranted)
                {
                    refusal = decision;
                    return null;
                }
            }

            var completion = new TaskCompletionSource<CacheEntry?>(TaskCreationOptions.RunContinuationsAsynchronously);
            if (_lookups.TryAdd(key.CacheKey, completion.Task))
            {
                _ = RunLookupAsync(key, previous, completion);
                return completion.Task;
            }

            // Another request started the same lookup meanwhile: join it, and give back what was taken.
            if (charged)
            {
                _budget!.Refund(clientAddress);
            }
        }
    }

    private DomainAuthorization Throttle(LookupKind kind, LookupBudgetDecision refusal)
    {
        _metrics.LookupThrottled(kind, refusal.Scope);
        Interlocked.Increment(ref refusal.Scope == LookupBudgetScope.Global ? ref _throttledGlobally : ref _throttledByClient);

        // A flood is refused thousands of times a second: one warning per interval says so, with the counts.
        var now = _time.GetTimestamp();
        var next = Interlocked.Read(ref _nextThrottleReportAt);
        if (now >= next && Interlocked.CompareExchange(ref _nextThrottleReportAt, now + _throttleReportInterval, next) == next)
        {
            var budget = _options.LookupBudget;
            AuthorizationLog.LookupsThrottled(
                _logger,
                Interlocked.Exchange(ref _throttledGlobally, 0),
                Interlocked.Exchange(ref _throttledByClient, 0),
                budget.PermitsPerSecond,
                budget.Burst,
                budget.PermitsPerSecondPerClient,
                budget.BurstPerClient);
        }
        else
        {
            AuthorizationLog.LookupThrottled(_logger, kind, refusal.Scope);
        }

        return DomainAuthorization.Throttled(refusal.Scope, refusal.RetryAfter);
    }

    private async Task RunLookupAsync(LookupKey key, CacheEntry? previous, TaskCompletionSource<CacheEntry?> completion)
    {
        CacheEntry? entry = null;
        try
        {
            entry = await FetchAsync(key, previous).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !_disposed.IsCancellationRequested)
        {
            // FetchAsync classifies every upstream failure; this is a bug, and still must not leave waiters hanging.
            LogFailed(key, 0, ex.GetType().Name);
        }
        catch (OperationCanceledException)
        {
            // Disposed while the lookup ran.
        }
        finally
        {
            // Cache first (in FetchAsync), then leave the single flight, then wake the waiters: a request that misses
            // after this point finds the entry in the cache or starts a lookup that finds it there.
            _lookups.TryRemove(new KeyValuePair<string, Task<CacheEntry?>>(key.CacheKey, completion.Task));
            completion.TrySetResult(entry);
        }
    }

    private async Task<CacheEntry?> FetchAsync(LookupKey key, CacheEntry? previous)
    {
        var started = _time.GetTimestamp();

        // A lookup that finished between this request's cache miss and its joining the single flight has already
        // stored the answer.
        if (_cache.TryGetValue(key.CacheKey, out var cached) && cached is CacheEntry current && !ReferenceEquals(current, previous)
            && started < current.FreshUntil)
        {
            return current;
        }

        var client = _clients();
        var answer = key.Kind == LookupKind.Domain
            ? await client.LookupDomainAsync(key.Value, _disposed.Token).ConfigureAwait(false)
            : await client.LookupClientAsync(key.Value, _disposed.Token).ConfigureAwait(false);
        var now = _time.GetTimestamp();
        var elapsed = _time.GetElapsedTime(started, now);
        _metrics.UpstreamCompleted(key.Kind, Outcome(answer), elapsed);

        CacheEntry entry;
        switch (answer.Outcome)
        {
            case LookupOutcome.Authorized:
                LogAnswered(key, answer.StatusCode, elapsed);
                entry = new CacheEntry(DomainAuthorization.Authorized(answer.Client!), now, now + _positiveTtl, now + _staleLimit);
                break;
            case LookupOutcome.NotFound:
                LogNotFound(key);
                entry = CacheEntry.Refusal(now, now + _negativeTtl);
                break;
            case LookupOutcome.Invalid:
                LogInvalid(key, answer.Detail ?? "invalid configuration");
                entry = CacheEntry.Refusal(now, now + _negativeTtl);
                break;
            default:
                _metrics.UpstreamFailed(key.Kind, answer.ErrorType ?? "unknown");
                LogFailed(key, elapsed.TotalMilliseconds, answer.Detail ?? answer.ErrorType ?? "unknown");
                RecordFailure(now);
                if (_cache.TryGetValue(key.CacheKey, out cached) && cached is CacheEntry { IsPositive: true } stale && stale.CanServeStale(now))
                {
                    stale.MarkFailing(now + _refreshRetryInterval);
                    LogServingStale(key, stale.Result.Client!.ClientId, _time.GetElapsedTime(stale.ConfirmedAt, now));
                }

                return null;
        }

        RecordAnswer(now);
        Store(key, entry);
        return entry;
    }

    private void Store(LookupKey key, CacheEntry entry)
    {
        var options = new MemoryCacheEntryOptions
        {
            Size = 1,

            // Under pressure, refusals (a flood of made-up origins or client ids) go before the clients' configurations.
            Priority = entry.IsPositive ? CacheItemPriority.High : CacheItemPriority.Low,

            // Memory reclaim only; freshness and the stale limit are decided from the entry's own timestamps.
            AbsoluteExpirationRelativeToNow = entry.IsPositive ? _options.StaleCacheLimit : _options.NegativeCacheDuration,
        };

        if (key.Kind == LookupKind.Client)
        {
            Interlocked.Increment(ref _clientEntries);
            options.RegisterPostEvictionCallback(static (_, _, _, state) => Interlocked.Decrement(ref ((HttpDomainAuthorizer)state!)._clientEntries), this);
        }
        else if (entry.IsPositive)
        {
            // Only domains' configurations keep /collect working through an outage, which the health check reports.
            Interlocked.Increment(ref _positiveEntries);
            UpdateNewest(entry.ConfirmedAt);
            options.RegisterPostEvictionCallback(static (_, _, _, state) => Interlocked.Decrement(ref ((HttpDomainAuthorizer)state!)._positiveEntries), this);
        }

        _cache.Set(key.CacheKey, entry, options);
    }

    private void LogAnswered(LookupKey key, int statusCode, TimeSpan elapsed)
    {
        if (key.Kind == LookupKind.Domain)
        {
            AuthorizationLog.PixelManagementAnswered(_logger, statusCode, key.Value, elapsed.TotalMilliseconds);
        }
        else
        {
            AuthorizationLog.PixelManagementAnsweredClient(_logger, statusCode, key.Value, elapsed.TotalMilliseconds);
        }
    }

    private void LogNotFound(LookupKey key)
    {
        if (key.Kind == LookupKind.Domain)
        {
            AuthorizationLog.PixelManagementUnknownDomain(_logger, key.Value);
        }
        else
        {
            AuthorizationLog.PixelManagementUnknownClient(_logger, key.Value);
        }
    }

    private void LogInvalid(LookupKey key, string error)
    {
        if (key.Kind == LookupKind.Domain)
        {
            AuthorizationLog.PixelManagementInvalidConfig(_logger, key.Value, error);
        }
        else
        {
            AuthorizationLog.PixelManagementInvalidClientConfig(_logger, key.Value, error);
        }
    }

    private void LogFailed(LookupKey key, double elapsedMs, string reason)
    {
        if (key.Kind == LookupKind.Domain)
        {
            AuthorizationLog.PixelManagementFailed(_logger, key.Value, elapsedMs, reason);
        }
        else
        {
            AuthorizationLog.PixelManagementClientFailed(_logger, key.Value, elapsedMs, reason);
        }
    }

    private void LogServingStale(LookupKey key, string clientId, TimeSpan age)
    {
        if (key.Kind == LookupKind.Domain)
        {
            AuthorizationLog.ServingStale(_logger, key.Value, clientId, age);
        }
        else
        {
            AuthorizationLog.ServingStaleClient(_logger, clientId, age);
        }
    }

    private void UpdateNewest(long confirmedAt)
    {
        var newest = Interlocked.Read(ref _newestConfirmation);
        while (confirmedAt > newest)
        {
            var seen = Interlocked.CompareExchange(ref _newestConfirmation, confirmedAt, newest);
            if (seen == newest)
            {
                return;
            }

            newest = seen;
        }
    }

    private void RecordAnswer(long now)
    {
        Interlocked.Exchange(ref _lastAnswer, now);
        Volatile.Write(ref _failingUntil, 0);
        if (Interlocked.Exchange(ref _failing, 0) == 1)
        {
            AuthorizationLog.PixelManagementRecovered(_logger);
        }
    }

    private void RecordFailure(long now)
    {
        Interlocked.Exchange(ref _lastFailure, now);
        Volatile.Write(ref _failingUntil, now + _refreshRetryInterval);
        Interlocked.Exchange(ref _failing, 1);
    }

    private long ToTimestampTicks(TimeSpan span) => (long)(span.TotalSeconds * _time.TimestampFrequency);

    /// <summary>What a lookup is about, and its key in the cache and the single flight (built only when pixel-management is asked).</summary>
    private readonly struct LookupKey(LookupKind kind, string value)
    {
        public LookupKind Kind { get; } = kind;

        /// <summary>Gets the normalised domain or the client id, as placed in the URL path.</summary>
        public string Value { get; } = value;

        public string CacheKey { get; } = kind == LookupKind.Domain ? value : ClientKeyPrefix + value;
    }

    /// <summary>A cached answer with its own clock: fresh until its TTL, then servable while failing up to the stale limit.</summary>
    private sealed class CacheEntry(DomainAuthorization result, long confirmedAt, long freshUntil, long staleUntil)
    {
        // Earliest timestamp of the next background refresh; moved forward by whoever starts one.
        public long NextRefreshAt;

        private volatile bool _failing;

        public DomainAuthorization Result { get; } = result;

        public long ConfirmedAt { get; } = confirmedAt;

        public long FreshUntil { get; } = freshUntil;

        public bool IsPositive => Result.Status == DomainAuthorizationStatus.Authorized;

        /// <summary>Gets a value indicating whether the last refresh of this configuration failed.</summary>
        public bool Failing => _failing;

        /// <summary>A refusal (unknown, or an unusable configuration): remembered until its TTL, never served stale.</summary>
        public static CacheEntry Refusal(long confirmedAt, long freshUntil) =>
            new(DomainAuthorization.Unauthorized, confirmedAt, freshUntil, staleUntil: confirmedAt);

        public bool CanServeStale(long now) => IsPositive && now < staleUntil;

        public void MarkFailing(long nextRefreshAt)
        {
            _failing = true;
            Volatile.Write(ref NextRefreshAt, nextRefreshAt);
        }
    }
}
