using System.Collections.Concurrent;
using Amazon.Runtime;
using Amazon.S3;
using Evothesis.Collector.Sinks.ObjectStorage.Internal;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Evothesis.Collector.Sinks.ObjectStorage;

/// <summary>
/// The object stores the collector is configured with: the client bucket, the backup bucket and the local
/// folder, plus any bucket reachable with the same S3 client. Resolve it from the service provider after
/// <c>AddEvothesisCollector()</c>, for tools such as the replay.
/// </summary>
/// <remarks>
/// The S3 client is created on first use: the <c>IAmazonS3</c> registered in the service provider, or one
/// built from <see cref="S3Options"/> and the standard AWS settings (disposed with this instance).
/// </remarks>
public sealed class CollectorObjectStores : IDisposable
{
    private readonly S3Options _options;
    private readonly IServiceProvider _services;
    private readonly ILogger _logger;
    private readonly Lazy<(IAmazonS3 Client, bool Owned)> _client;
    private readonly ConcurrentDictionary<string, S3ObjectStore> _buckets = new(StringComparer.Ordinal);

    internal CollectorObjectStores(IOptions<CollectorOptions> options, CollectorPaths paths, IServiceProvider services, ILogger<CollectorObjectStores> logger)
    {
        _options = options.Value.S3;
        _services = services;
        _logger = logger;
        LocalFolder = new LocalFolderObjectStore(paths.Resolve(options.Value.Storage.Path));
        _client = new Lazy<(IAmazonS3, bool)>(CreateClient, LazyThreadSafetyMode.ExecutionAndPublication);
    }

    /// <summary>Gets the local folder of <see cref="StorageOptions.Path"/>, the embedded default store.</summary>
    public LocalFolderObjectStore LocalFolder { get; }

    /// <summary>Gets the client bucket (<see cref="S3Options.ClientBucket"/>), or <see langword="null"/> when none is configured.</summary>
    public IObjectStore? ClientBucket => string.IsNullOrWhiteSpace(_options.ClientBucket) ? null : GetBucket(_options.ClientBucket);

    /// <summary>Gets the backup bucket (<see cref="S3Options.BackupBucket"/>), or <see langword="null"/> when none is configured.</summary>
    public IObjectStore? BackupBucket => string.IsNullOrWhiteSpace(_options.BackupBucket) ? null : GetBucket(_options.BackupBucket);

    /// <summary>Gets the key prefix of the client bucket and dedicated buckets (<see cref="S3Options.Prefix"/>).</summary>
    public string? ClientPrefix => _options.Prefix;

    /// <summary>Gets the key prefix of the backup bucket (<see cref="S3Options.BackupPrefix"/>).</summary>
    public string? BackupPrefix => _options.BackupPrefix;

    /// <summary>Gets a store on any bucket, through the collector's S3 client and transfer settings.</summary>
    /// <param name="bucketName">The bucket.</param>
    /// <returns>The store; the same instance for the same bucket.</returns>
    public IObjectStore GetBucket(string bucketName)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(bucketName);
        return _buckets.GetOrAdd(bucketName.Trim(), static (name, self) => new S3ObjectStore(self._client.Value.Client, name, self._options, self._logger), this);
    }

    /// <summary>Disposes the S3 client if this instance built it.</summary>
    public void Dispose()
    {
        if (_client.IsValueCreated && _client.Value.Owned)
        {
            _client.Value.Client.Dispose();
        }
    }

    private (IAmazonS3, bool) CreateClient()
    {
        if (_services.GetService<IAmazonS3>() is { } registered)
        {
            return (registered, false);
        }

        try
        {
            return (S3ClientFactory.Create(_options, _services.GetService<IConfiguration>()), true);
        }
        catch (AmazonClientException ex)
        {
            throw new InvalidOperationException(
                $"The S3 client cannot be created: {ex.Message}. Set AWS_REGION (or Evothesis:S3:Region) for AWS, or " +
                "AWS_ENDPOINT_URL_S3 (or Evothesis:S3:ServiceUrl) for an S3-compatible store, or register an IAmazonS3.",
                ex);
        }
    }
}
