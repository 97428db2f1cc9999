using System.ComponentModel.DataAnnotations;
using Evothesis.Collector.Authorization;
using Evothesis.Collector.Authorization.Internal;
using Evothesis.Collector.Batching;
using Evothesis.Collector.Ingestion;
using Evothesis.Collector.Privacy;
using Evothesis.Collector.Privacy.Internal;
using Evothesis.Collector.Sinks.ObjectStorage;
using Evothesis.Collector.Sinks.ObjectStorage.Internal;
using Evothesis.Collector.Spool;
using Evothesis.Collector.Spool.Internal;
using Microsoft.Extensions.Options;

namespace Evothesis.Collector;

/// <summary>
/// Options of the collector, bound from the <c>Evothesis</c> configuration section.
/// </summary>
/// <remarks>
/// Every value has a default that works on a fresh machine: a clients file for authorization and a local
/// folder for storage. Options are validated when the host starts.
/// </remarks>
public sealed class CollectorOptions
{
    /// <summary>The configuration section the options are bound from by convention.</summary>
    public const string SectionName = "Evothesis";

    /// <summary>Gets or sets the limits every request is checked against.</summary>
    [ValidateObjectMembers]
    public RequestLimitsOptions Limits { get; set; } = new();

    /// <summary>Gets or sets how events are queued, batched and acknowledged.</summary>
    [ValidateObjectMembers]
    public BatchingOptions Batching { get; set; } = new();

    /// <summary>Gets or sets how domains are authorized.</summary>
    public AuthorizationOptions Authorization { get; set; } = new();

    /// <summary>Gets or sets the local storage used when no other sink is configured.</summary>
    public StorageOptions Storage { get; set; } = new();

    /// <summary>Gets or sets the local write-ahead spool accepted events are appended to, bound from <c>Evothesis:Spool</c>.</summary>
    public SpoolOptions Spool { get; set; } = new();

    /// <summary>Gets or sets how personal data is redacted from event payloads.</summary>
    public PrivacyOptions Privacy { get; set; } = new();

    /// <summary>
    /// Gets or sets S3 object storage: the client bucket (data lake) and the backup bucket, bound from
    /// <c>Evothesis:S3</c>, with <c>CLIENT_S3_BUCKET</c>, <c>BACKUP_S3_BUCKET</c> and <c>AWS_ENDPOINT_URL_S3</c>
    /// as aliases.
    /// </summary>
    public S3Options S3 { get; set; } = new();

    /// <summary>
    /// Gets or sets how far past the receive time a (skew-corrected) event timestamp may lie before it is
    /// clamped to the receive time. The default is 1 minute.
    /// </summary>
    public TimeSpan FutureTimestampTolerance { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>
    /// Gets or sets how many of the most recent events the in-memory buffer behind <c>GET /events/recent</c>
    /// keeps. The default is 1000.
    /// </summary>
    [Range(1, 1_000_000)]
    public int RecentEventsCapacity { get; set; } = 1000;

    /// <summary>
    /// Gets or sets the most bytes the in-memory buffer behind <c>GET /events/recent</c> holds (payloads, strings and
    /// a per-event allowance); the oldest events leave first. The buffer is filled only while
    /// <c>MapEvothesisRecentEvents()</c> serves it. The default is 16 MiB.
    /// </summary>
    [Range(64 * 1024, 16L * 1024 * 1024 * 1024)]
    public long RecentEventsCapacityBytes { get; set; } = 16L * 1024 * 1024;

    /// <summary>
    /// Gets or sets the <c>Retry-After</c> the collector answers with when it cannot take events now
    /// (queue full, sinks failing, shutting down). The default is 5 seconds.
    /// </summary>
    public TimeSpan RetryAfter { get; set; } = TimeSpan.FromSeconds(5);
}

[OptionsValidator]
internal sealed partial class CollectorOptionsAnnotationsValidator : IValidateOptions<CollectorOptions>;

/// <summary>Checks what data annotations cannot express; messages name the bad values.</summary>
internal sealed class CollectorOptionsValidator : IValidateOptions<CollectorOptions>
{
    private readonly CollectorOptionsAnnotationsValidator _annotations = new();

    public ValidateOptionsResult Validate(string? name, CollectorOptions options)
    {
        var failures = new List<string>();
        var annotations = _annotations.Validate(name, options);
        if (annotations.Failed)
        {
            failures.AddRange(annotations.Failures);
        }

        var batching = options.Batching;
        CheckRange(failures, "Evothesis:Batching:AckTimeout", batching.AckTimeout, TimeSpan.FromMilliseconds(100), TimeSpan.FromMinutes(10));
        CheckRange(failures, "Evothesis:Batching:SinkTimeout", batching.SinkTimeout, TimeSpan.FromMilliseconds(100), TimeSpan.FromHours(1));
        CheckRange(failures, "Evothesis:Batching:DeliveryDelay", batching.DeliveryDelay, TimeSpan.Zero, TimeSpan.FromMinutes(5));
        CheckRange(failures, "Evothesis:Batching:RetryBaseDelay", batching.RetryBaseDelay, TimeSpan.FromMilliseconds(1), TimeSpan.FromMinutes(1));
        CheckRange(failures, "Evothesis:Batching:RetryMaxDelay", batching.RetryMaxDelay, batching.RetryBaseDelay, TimeSpan.FromHours(1));
        CheckRange(failures, "Evothesis:FutureTimestampTolerance", options.FutureTimestampTolerance, TimeSpan.Zero, TimeSpan.FromDays(1));
        CheckRange(failures, "Evothesis:RetryAfter", options.RetryAfter, TimeSpan.FromSeconds(1), TimeSpan.FromHours(1));

        // The largest request a body can make: its payloads once inherited fields are copied, and the fixed fields.
        var largestRecord = ((long)options.Limits.MaxPayloadExpansion * options.Limits.MaxBodyBytes) + RequestLimitsOptions.PayloadExpansionAllowance
            + ((long)options.Limits.MaxEventsPerBatch * 2048);
        if (options.Spool.SegmentBytes < largestRecord)
        {
            failures.Add(
                $"Evothesis:Spool:SegmentBytes ({options.Spool.SegmentBytes}) must be at least {largestRecord} bytes: the largest request " +
                $"Evothesis:Limits allow (MaxBodyBytes {options.Limits.MaxBodyBytes} times MaxPayloadExpansion {options.Limits.MaxPayloadExpansion}, " +
                $"plus MaxEventsPerBatch {options.Limits.MaxEventsPerBatch} events) must fit in one segment.");
        }

        CheckNames(failures, "Evothesis:Privacy:SecretKeys", options.Privacy.SecretKeys);
        CheckNames(failures, "Evothesis:Privacy:FormEventTypes", options.Privacy.FormEventTypes);
        CheckNames(failures, "Evothesis:Privacy:FormMetadataKeys", options.Privacy.FormMetadataKeys);

        if (string.IsNullOrWhiteSpace(options.Storage.Path))
        {
            failures.Add("Evothesis:Storage:Path must not be empty.");
        }

        ObjectLimits.AddFailures(failures, "Evothesis:Storage", ObjectLimits.For(options.Storage));

        ValidateAuthorization(failures, options.Authorization);
        SpoolOptionsValidator.AddFailures(failures, options.Spool, "Evothesis:Spool");

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private static void ValidateAuthorization(List<string> failures, AuthorizationOptions authorization)
    {
        // Empty counts as unset (PIXEL_MANAGEMENT_URL= in a compose file): the clients file is used.
        if (!string.IsNullOrWhiteSpace(authorization.PixelManagementUrl)
            && !PixelManagementUri.TryCreate(authorization.PixelManagementUrl, out _, out var error))
        {
            failures.Add($"Evothesis:Authorization:PixelManagementUrl ('{PixelManagementUri.Redact(authorization.PixelManagementUrl)}') {error}");
        }

        CheckRange(failures, "Evothesis:Authorization:PixelManagementTimeout", authorization.PixelManagementTimeout, TimeSpan.FromMilliseconds(100), TimeSpan.FromMinutes(1));
        CheckRange(failures, "Evothesis:Authorization:PixelManagementAttemptTimeout", authorization.PixelManagementAttemptTimeout, TimeSpan.FromMilliseconds(50), TimeSpan.FromMinutes(1));
        CheckRange(failures, "Evothesis:Authorization:PositiveCacheDuration", authorization.PositiveCacheDuration, TimeSpan.FromSeconds(1), TimeSpan.FromDays(1));
        CheckRange(failures, "Evothesis:Authorization:NegativeCacheDuration", authorization.NegativeCacheDuration, TimeSpan.FromSeconds(1), TimeSpan.FromDays(1));
        CheckRange(failures, "Evothesis:Authorization:StaleCacheLimit", authorization.StaleCacheLimit, TimeSpan.FromSeconds(1), TimeSpan.FromDays(30));
        CheckRange(failures, "Evothesis:Authorization:CorsMaxAge", authorization.CorsMaxAge, TimeSpan.Zero, TimeSpan.FromDays(1));

        if (authorization.PixelManagementAttemptTimeout >= authorization.PixelManagementTimeout)
        {
            failures.Add(
                $"Evothesis:Authorization:PixelManagementAttemptTimeout ({authorization.PixelManagementAttemptTimeout}) must be shorter than " +
                $"Evothesis:Authorization:PixelManagementTimeout ({authorization.PixelManagementTimeout}), which includes every attempt.");
        }

        if (authorization.PixelManagementMaxRetries is < 0 or > 10)
        {
            failures.Add($"Evothesis:Authorization:PixelManagementMaxRetries ({authorization.PixelManagementMaxRetries}) must be between 0 and 10.");
        }

        if (authorization.StaleCacheLimit < authorization.PositiveCacheDuration)
        {
            failures.Add(
                $"Evothesis:Authorization:StaleCacheLimit ({authorization.StaleCacheLimit}) must be at least " +
                $"Evothesis:Authorization:PositiveCacheDuration ({authorization.PositiveCacheDuration}).");
        }

        if (authorization.CacheSizeLimit is < 16 or > 10_000_000)
        {
            failures.Add($"Evothesis:Authorization:CacheSizeLimit ({authorization.CacheSizeLimit}) must be between 16 and 10000000.");
        }

        CheckRange(failures, "Evothesis:Authorization:HealthCheckCacheDuration", authorization.HealthCheckCacheDuration, TimeSpan.Zero, TimeSpan.FromMinutes(5));
        ValidateLookupBudget(failures, authorization.LookupBudget);
    }

    private static void ValidateLookupBudget(List<string> failures, LookupBudgetOptions? budget)
    {
        const string Key = "Evothesis:Authorization:LookupBudget";
        if (budget is null)
        {
            failures.Add($"{Key} must not be null.");
            return;
        }

        CheckRate(failures, $"{Key}:PermitsPerSecond", budget.PermitsPerSecond);
        CheckRate(failures, $"{Key}:PermitsPerSecondPerClient", budget.PermitsPerSecondPerClient);
        if (budget.Burst is < 1 or > 1_000_000)
        {
            failures.Add($"{Key}:Burst ({budget.Burst}) must be between 1 and 1000000.");
        }

        if (budget.BurstPerClient is < 1 or > 1_000_000)
        {
            failures.Add($"{Key}:BurstPerClient ({budget.BurstPerClient}) must be between 1 and 1000000.");
        }

        // A client address allowed more than everyone together would make its own budget meaningless.
        if (budget.PermitsPerSecondPerClient > budget.PermitsPerSecond)
        {
            failures.Add(
                $"{Key}:PermitsPerSecondPerClient ({budget.PermitsPerSecondPerClient}) must not exceed {Key}:PermitsPerSecond ({budget.PermitsPerSecond}).");
        }

        if (budget.BurstPerClient > budget.Burst)
        {
            failures.Add($"{Key}:BurstPerClient ({budget.BurstPerClient}) must not exceed {Key}:Burst ({budget.Burst}).");
        }
    }

    private static void CheckRate(List<string> failures, string key, double value)
    {
        // Also refuses NaN, which compares false with everything.
        if (!(value >= 0.001 && value <= 1_000_000))
        {
            failures.Add($"{key} ({value}) must be between 0.001 and 1000000.");
        }
    }

    private static void CheckNames(List<string> failures, string key, IList<string>? names)
    {
        if (names is null)
        {
            failures.Add($"{key} must not be null.");
            return;
        }

        for (var i = 0; i < names.Count; i++)
        {
            if (string.IsNullOrEmpty(names[i]) || KeyNameMatcher.Normalize(names[i]).Length == 0)
            {
                failures.Add($"{key}:{i} ('{names[i]}') must contain a letter or digit.");
            }
        }
    }

    private static void CheckRange(List<string> failures, string key, TimeSpan value, TimeSpan min, TimeSpan max)
    {
        if (value < min || value > max)
        {
            failures.Add($"{key} ({value}) must be between {min} and {max}.");
        }
    }
}
