namespace Evothesis.Collector.Spool.Internal;

/// <summary>One segment file. Mutable fields are guarded by the spool's lock.</summary>
internal sealed class SpoolSegment(long basePosition, string path)
{
    public long Base { get; } = basePosition;

    public string Path { get; } = path;

    public string FileName => System.IO.Path.GetFileName(Path);

    /// <summary>Gets or sets the position after the last durable, readable record.</summary>
    public long End { get; set; } = basePosition;

    /// <summary>Gets or sets the file's size on disk, header included: what it counts against the spool's bound.</summary>
    public long FileBytes { get; set; } = SpoolFormat.SegmentHeaderSize;

    /// <summary>Gets or sets a value indicating whether nothing may be appended (a corrupt record or a failed write).</summary>
    public bool Sealed { get; set; }
}
