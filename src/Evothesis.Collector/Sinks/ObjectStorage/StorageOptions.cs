namespace Evothesis.Collector.Sinks.ObjectStorage;

/// <summary>The local folder events are written to when no other sink is configured.</summary>
public sealed class StorageOptions
{
    /// <summary>
    /// Gets or sets the folder. Relative paths are resolved against the content root. The default is <c>data</c>.
    /// </summary>
    public string Path { get; set; } = "data";

    /// <summary>
    /// Gets or sets how much a file of the local folder may hold before it is closed and written: the size of its events
    /// as they wait in the write-ahead spool (uncompressed). The default is 4 MiB.
    /// </summary>
    public long ObjectMaxBytes { get; set; } = 4L * 1024 * 1024;

    /// <summary>
    /// Gets or sets how long the oldest event of a file may wait for more events to join it before the file is closed
    /// and written. Zero writes what is waiting at once. The default is 1 second.
    /// </summary>
    /// <remarks>
    /// Shorter than the buckets' <c>Evothesis:S3:ObjectMaxAge</c> (30 seconds) on purpose: the local folder is the embedded sink
    /// of the sample and the demo site, and when it is the first sink <c>GET /events/recent</c> and the
    /// <c>Bulk inserted</c> log line follow its writes, so a visitor's click should show within about a second. A
    /// folder pays nothing per file, so small files cost little.
    /// </remarks>
    public TimeSpan ObjectMaxAge { get; set; } = TimeSpan.FromSeconds(1);
}
