using Evothesis.Collector.Sinks.ObjectStorage;

namespace Evothesis.Collector.Spool;

/// <summary>
/// The local write-ahead spool accepted events are appended to before any sink sees them, bound from
/// <c>Evothesis:Spool</c>.
/// </summary>
/// <remarks>
/// The spool is a folder of segment files. It must be on a persistent disk for acknowledged events to survive a
/// restart: in a container, mount a volume there.
/// </remarks>
public sealed class SpoolOptions
{
    /// <summary>The name of the folder under <see cref="StorageOptions.Path"/> used when <see cref="Path"/> is not set.</summary>
    public const string DefaultFolderName = "spool";

    /// <summary>
    /// Gets or sets the spool folder. Relative paths are resolved against the content root. The default is
    /// <see langword="null"/>: a <c>spool</c> folder under <c>Evothesis:Storage:Path</c> (<c>data/spool</c>).
    /// </summary>
    public string? Path { get; set; }

    /// <summary>
    /// Gets or sets the most bytes the spool may hold: segment files not yet deleted plus records waiting to be
    /// written. An append that would pass it is refused (the request is answered with 503), never dropped
    /// silently. The default is 1 GiB.
    /// </summary>
    public long MaxBytes { get; set; } = 1024L * 1024 * 1024;

    /// <summary>
    /// Gets or sets the size at which the current segment file is closed and a new one started. A segment is
    /// deleted as a whole once every consumer has committed past it, so smaller segments free space sooner. One
    /// record (one request) must fit in a segment. The default is 64 MiB.
    /// </summary>
    public long SegmentBytes { get; set; } = 64L * 1024 * 1024;

    /// <summary>
    /// Gets or sets the most bytes of records accepted and not yet written to the segment file. It bounds the
    /// memory the spool holds while the disk is slow. The default is 64 MiB.
    /// </summary>
    public long MaxPendingBytes { get; set; } = 64L * 1024 * 1024;

    /// <summary>
    /// Gets or sets the free space the spool leaves on its disk: an append that would leave less is refused as
    /// when the spool is full. Zero turns the check off. The default is 256 MiB.
    /// </summary>
    public long MinFreeDiskBytes { get; set; } = 256L * 1024 * 1024;

    /// <summary>
    /// Gets or sets how often fully consumed segments are deleted, and cursors not yet written are written to disk.
    /// The collector's consumers write their cursor after each delivery, so that after a crash only the last batch is
    /// delivered again, under the same id. The default is 1 second.
    /// </summary>
    public TimeSpan CheckpointInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Gets or sets how long after a failed write (read-only or missing folder, disk error) the spool refuses
    /// appends before it tries to write again. The default is 1 second.
    /// </summary>
    public TimeSpan RetryInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Gets or sets how old a consumer's oldest unconsumed record may grow before the spool reports itself
    /// degraded. The default is 5 minutes.
    /// </summary>
    public TimeSpan MaxConsumerLag { get; set; } = TimeSpan.FromMinutes(5);

    internal string ResolvePath(CollectorPaths paths, StorageOptions storage) =>
        paths.Resolve(string.IsNullOrWhiteSpace(Path) ? System.IO.Path.Combine(storage.Path, DefaultFolderName) : Path);
}
