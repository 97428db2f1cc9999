using Evothesis.Collector.Sinks.ObjectStorage.Internal;
using Microsoft.Extensions.Options;

namespace Evothesis.Collector.Sinks.ObjectStorage;

/// <summary>
/// The object stores the collector is configured with: the local folder, and, when <c>AddS3Sink()</c> registered
/// them, the client bucket, the backup bucket and any bucket reachable with the same S3 client. Resolved by the sink
/// set, the audit trail and the replay tool.
/// </summary>
internal sealed class CollectorObjectStores
{
    private readonly IObjectStorageBuckets? _buckets;

    public CollectorObjectStores(IOptions<CollectorOptions> options, CollectorPaths paths, IObjectStorageBuckets? buckets = null)
    {
        LocalFolder = new LocalFolderObjectStore(paths.Resolve(options.Value.Storage.Path));
        _buckets = buckets;
    }

    /// <summary>Gets the local folder of <see cref="StorageOptions.Path"/>, the embedded default store.</summary>
    public LocalFolderObjectStore LocalFolder { get; }

    /// <summary>Gets the buckets, or <see langword="null"/> when S3 storage is not registered.</summary>
    public IObjectStorageBuckets? Buckets => _buckets;

    /// <summary>Gets the client bucket, or <see langword="null"/> when none is configured.</summary>
    public IObjectStore? ClientBucket => _buckets?.ClientBucket;

    /// <summary>Gets the backup bucket, or <see langword="null"/> when none is configured.</summary>
    public IObjectStore? BackupBucket => _buckets?.BackupBucket;

    /// <summary>Gets the key prefix of the client bucket and dedicated buckets.</summary>
    public string? ClientPrefix => _buckets?.ClientPrefix;

    /// <summary>Gets the key prefix of the backup bucket.</summary>
    public string? BackupPrefix => _buckets?.BackupPrefix;

    /// <summary>Gets a store on any bucket, through the collector's S3 client and transfer settings.</summary>
    /// <exception cref="InvalidOperationException">S3 storage is not registered.</exception>
    public IObjectStore GetBucket(string bucketName)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(bucketName);
        return _buckets is null
            ? throw new InvalidOperationException(
                $"Bucket '{bucketName}' needs S3 storage: add the Evothesis.Collector.S3 package and call AddEvothesisCollector(...).AddS3Sink().")
            : _buckets.GetBucket(bucketName.Trim());
    }
}
