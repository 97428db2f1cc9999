namespace Evothesis.Collector.Sinks.ObjectStorage.Internal;

/// <summary>
/// When an object-storage sink closes an object: once its events take <see cref="MaxBytes"/> in the spool, or once the
/// oldest of them is <see cref="MaxAge"/> old (<c>Evothesis:S3:ObjectMaxBytes</c> and <c>ObjectMaxAge</c> for the
/// buckets, <see cref="StorageOptions"/>' for the local folder).
/// </summary>
internal readonly record struct ObjectLimits(long MaxBytes, TimeSpan MaxAge)
{
    /// <summary>The smallest <see cref="MaxBytes"/> accepted: 1 KiB.</summary>
    public const long SmallestMaxBytes = 1024;

    /// <summary>The largest <see cref="MaxBytes"/> accepted: 256 MiB, as a batch is held in memory until it is written.</summary>
    public const long LargestMaxBytes = 256L * 1024 * 1024;

    /// <summary>The most events in one object, whatever their size: a bound on the memory of objects of tiny events.</summary>
    public const int MaxEvents = 100_000;

    /// <summary>The longest <see cref="MaxAge"/> accepted.</summary>
    public static readonly TimeSpan LongestMaxAge = TimeSpan.FromHours(1);

    /// <summary>The buckets' default limits: 16 MiB, 30 seconds.</summary>
    public static ObjectLimits BucketDefault => new(16L * 1024 * 1024, TimeSpan.FromSeconds(30));

    /// <summary>The local folder's limits as configured.</summary>
    public static ObjectLimits For(StorageOptions options) => new(options.ObjectMaxBytes, options.ObjectMaxAge);

    /// <summary>Adds a failure, naming the key and the value, for each limit out of range.</summary>
    /// <param name="failures">The failures so far.</param>
    /// <param name="section">The options' section, such as <c>Evothesis:S3</c>.</param>
    /// <param name="limits">The limits.</param>
    public static void AddFailures(List<string> failures, string section, ObjectLimits limits)
    {
        if (limits.MaxBytes is < SmallestMaxBytes or > LargestMaxBytes)
        {
            failures.Add($"{section}:ObjectMaxBytes ({limits.MaxBytes}) must be between {SmallestMaxBytes} and {LargestMaxBytes} (256 MiB): an object's events are held in memory until it is written.");
        }

        if (limits.MaxAge < TimeSpan.Zero || limits.MaxAge > LongestMaxAge)
        {
            failures.Add($"{section}:ObjectMaxAge ({limits.MaxAge}) must be between {TimeSpan.Zero} and {LongestMaxAge}.");
        }
    }
}
