using Microsoft.Extensions.Options;

namespace Evothesis.Collector.Spool.Internal;

/// <summary>Checks the spool's options; messages name the bad values.</summary>
internal sealed class SpoolOptionsValidator : IValidateOptions<SpoolOptions>
{
    public const long MinSegmentBytes = 1024;
    public const long MaxSegmentBytes = 1024L * 1024 * 1024;

    public ValidateOptionsResult Validate(string? name, SpoolOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new List<string>();
        AddFailures(failures, options, "Evothesis:Spool");
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    /// <summary>Adds a message per bad value, each key prefixed with <paramref name="section"/>.</summary>
    public static void AddFailures(List<string> failures, SpoolOptions options, string section)
    {
        if (options.Path is { } path && path.Length > 0 && string.IsNullOrWhiteSpace(path))
        {
            failures.Add($"{section}:Path ('{path}') must not be blank: leave it unset for the default folder.");
        }

        if (options.SegmentBytes is < MinSegmentBytes or > MaxSegmentBytes)
        {
            failures.Add($"{section}:SegmentBytes ({options.SegmentBytes}) must be between {MinSegmentBytes} and {MaxSegmentBytes}.");
        }

        // The active segment is never deleted, so a spool that cannot hold two segments could fill up with records
        // every consumer already has and stay full.
        if (options.MaxBytes < 2 * options.SegmentBytes)
        {
            failures.Add(
                $"{section}:MaxBytes ({options.MaxBytes}) must be at least twice {section}:SegmentBytes ({options.SegmentBytes}), " +
                "or the spool could be full of segments every consumer has already read.");
        }

        if (options.MaxPendingBytes < MinSegmentBytes || options.MaxPendingBytes > options.MaxBytes)
        {
            failures.Add(
                $"{section}:MaxPendingBytes ({options.MaxPendingBytes}) must be between {MinSegmentBytes} and " +
                $"{section}:MaxBytes ({options.MaxBytes}).");
        }

        if (options.MinFreeDiskBytes < 0)
        {
            failures.Add($"{section}:MinFreeDiskBytes ({options.MinFreeDiskBytes}) must not be negative.");
        }

        CheckRange(failures, $"{section}:CheckpointInterval", options.CheckpointInterval, TimeSpan.FromMilliseconds(10), TimeSpan.FromHours(1));
        CheckRange(failures, $"{section}:RetryInterval", options.RetryInterval, TimeSpan.FromMilliseconds(10), TimeSpan.FromMinutes(10));
        CheckRange(failures, $"{section}:MaxConsumerLag", options.MaxConsumerLag, TimeSpan.FromSeconds(1), TimeSpan.FromDays(30));
    }

    private static void CheckRange(List<string> failures, string key, TimeSpan value, TimeSpan min, TimeSpan max)
    {
        if (value < min || value > max)
        {
            failures.Add($"{key} ({value}) must be between {min} and {max}.");
        }
    }
}
