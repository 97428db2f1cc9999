using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Evothesis.Collector.Sinks.ObjectStorage.Internal;

/// <summary>
/// Fails the start when the configuration names an S3 bucket but S3 storage is not registered: the events would
/// otherwise go to the local folder while the operator expects them in the bucket.
/// </summary>
internal sealed class UnregisteredBucketsValidator(IServiceProvider services) : IValidateOptions<CollectorOptions>
{
    private static readonly string[] BucketKeys =
    [
        "Evothesis:S3:ClientBucket",
        "Evothesis:S3:BackupBucket",
        "CLIENT_S3_BUCKET",
        "BACKUP_S3_BUCKET",
    ];

    public ValidateOptionsResult Validate(string? name, CollectorOptions options)
    {
        if (services.GetService<IObjectStorageBuckets>() is not null || services.GetService<IConfiguration>() is not { } configuration)
        {
            return ValidateOptionsResult.Success;
        }

        var configured = BucketKeys.Where(key => !string.IsNullOrWhiteSpace(configuration[key])).ToList();
        return configured.Count == 0
            ? ValidateOptionsResult.Success
            : ValidateOptionsResult.Fail(
                $"{string.Join(" and ", configured)} name an S3 bucket, but S3 storage is not registered: add the Evothesis.Collector.S3 " +
                "package and call AddEvothesisCollector(...).AddS3Sink(), or remove the setting to write to the local folder.");
    }
}
