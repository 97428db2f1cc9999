using System.ComponentModel.DataAnnotations;
using Evothesis.Collector.Authorization;
using Evothesis.Collector.Batching;
using Evothesis.Collector.Ingestion;
using Evothesis.Collector.Privacy;
using Evothesis.Collector.Sinks.ObjectStorage;
using Evothesis.Collector.Spool;
using Microsoft.Extensions.Options;

namespace Evothesis.Collector;

/// <summary>
/// Options of the collector, bound from the <c>Evothesis</c> configuration section.
/// </summary>
/// <remarks>
/// Every value has a default that works on a fresh machine: a clients file for authorization and a local
/// folder for storage. Options are validated when the host starts; each capability validates its own section.
/// Sink packages bind their own sections (<c>Evothesis:PostgreSql</c>, <c>Evothesis:S3</c>).
/// </remarks>
public sealed class CollectorOptions
{
    /// <summary>The configuration section the options are bound from by convention.</summary>
    public const string SectionName = "Evothesis";

    /// <summary>
    /// The name of the collector's <see cref="System.Diagnostics.Metrics.Meter"/> and
    /// <see cref="System.Diagnostics.ActivitySource"/>, for <c>AddMeter(...)</c> and <c>AddSource(...)</c> in OpenTelemetry.
    /// The instruments are listed in <c>docs/metrics.md</c>.
    /// </summary>
    public const string MeterName = "Evothesis.Collector";

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

/// <summary>
/// Checks the data annotations and the collector-wide values; each capability's own validator checks its section
/// (<c>AuthorizationOptionsValidator</c>, <c>BatchingOptionsValidator</c>, ...). Messages name the bad values.
/// </summary>
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

        OptionsChecks.Range(failures, "Evothesis:FutureTimestampTolerance", options.FutureTimestampTolerance, TimeSpan.Zero, TimeSpan.FromDays(1));
        OptionsChecks.Range(failures, "Evothesis:RetryAfter", options.RetryAfter, TimeSpan.FromSeconds(1), TimeSpan.FromHours(1));
        return OptionsChecks.Result(failures);
    }
}

/// <summary>Checks shared by the capabilities' validators.</summary>
internal static class OptionsChecks
{
    public static void Range(List<string> failures, string key, TimeSpan value, TimeSpan min, TimeSpan max)
    {
        if (value < min || value > max)
        {
            failures.Add($"{key} ({value}) must be between {min} and {max}.");
        }
    }

    public static ValidateOptionsResult Result(List<string> failures) =>
        failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
}
