using System.Collections.Concurrent;
using Amazon.Runtime;
using Amazon.S3;
using Evothesis.Collector.Sinks.ObjectStorage;
using Evothesis.Collector.Sinks.ObjectStorage.Internal;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Evothesis.Collector.Sinks.S3.Internal;

/// <summary>
/// The client bucket, the backup bucket and any bucket reachable with the same S3 client, as <see cref="S3Options"/>
/// configures them.
/// </summary>
/// <remarks>
/// The S3 client is created on first use: the <c>IAmazonS3</c> registered in the service provider, or one
/// built from <see cref="S3Options"/> and the standard AWS settings (disposed with this instance).
/// </remarks>
internal sealed class S3Buckets : IObjectStorageBuckets, IDisposable
{
    private readonly S3Options _options;
    private readonly IServiceProvider _services;
    private readonly ILogger _logger;
    private readonly Lazy<(IAmazonS3 Client, bool Owned)> _client;
    private readonly ConcurrentDictionary<string, S3ObjectStore> _buckets = new(StringComparer.Ordinal);

    public S3Buckets(IOptions<S3Options> options, IServiceProvider services, ILogger<S3Buckets> logger)
    {
        _options = options.Value;
        _services = services;
        _logger = logger;
        _client = new Lazy<(IAmazonS3, bool)>(CreateClient, LazyThreadSafetyMode.ExecutionAndPublication);
    }

    public IObjectStore? ClientBucket => string.IsNullOrWhiteSpace(_options.ClientBucket) ? null : GetBucket(_options.ClientBucket);

    public IObjectStore? BackupBucket => string.IsNullOrWhiteSpace(_options.BackupBucket) ? null : GetBucket(_options.BackupBucket);

    public string? ClientPrefix => _options.Prefix;

    public string? BackupPrefix => _options.BackupPrefix;

    public bool UseClientBuckets => _options.UseClientBuckets;

    public int MaxConcurrentUploads => _options.MaxConcurrentUploads;

    public ObjectLimits Limits => Of(_options);

    /// <summary>The buckets' limits as configured.</summary>
    public static ObjectLimits Of(S3Options options) => new(options.ObjectMaxBytes, options.ObjectMaxAge);

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
