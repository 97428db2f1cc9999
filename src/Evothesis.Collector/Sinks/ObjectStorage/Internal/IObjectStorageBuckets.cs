namespace Evothesis.Collector.Sinks.ObjectStorage.Internal;

/// <summary>
/// Buckets beside the local folder: the client bucket (data lake), the backup bucket and clients' dedicated buckets.
/// Registered by <c>AddS3Sink()</c> (package <c>Evothesis.Collector.S3</c>); without it the collector knows only the
/// local folder.
/// </summary>
internal interface IObjectStorageBuckets
{
    /// <summary>Gets the client bucket, or <see langword="null"/> when none is configured.</summary>
    IObjectStore? ClientBucket { get; }

    /// <summary>Gets the backup bucket, or <see langword="null"/> when none is configured.</summary>
    IObjectStore? BackupBucket { get; }

    /// <summary>Gets the key prefix of the client bucket and dedicated buckets.</summary>
    string? ClientPrefix { get; }

    /// <summary>Gets the key prefix of the backup bucket.</summary>
    string? BackupPrefix { get; }

    /// <summary>Gets a value indicating whether clients that name their own bucket have their objects written there.</summary>
    bool UseClientBuckets { get; }

    /// <summary>Gets how many objects or parts are uploaded at the same time.</summary>
    int MaxConcurrentUploads { get; }

    /// <summary>Gets when a bucket's object is closed.</summary>
    ObjectLimits Limits { get; }

    /// <summary>Gets a store on any bucket, through the same client and transfer settings.</summary>
    IObjectStore GetBucket(string bucketName);
}
