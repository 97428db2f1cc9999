using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;

namespace Evothesis.Collector.Sinks.ObjectStorage.Internal;

/// <summary>
/// Fills the S3 settings left unset under <c>Evothesis:S3</c> from the names the original collector and the AWS
/// tools use (<c>CLIENT_S3_BUCKET</c>, <c>BACKUP_S3_BUCKET</c>, <c>AWS_ENDPOINT_URL_S3</c>, <c>AWS_REGION</c>), read
/// from the host's root configuration, where environment variables land.
/// </summary>
/// <remarks>
/// A post-configuration, so an <c>Evothesis</c> key or a value set in code always wins over an alias.
/// </remarks>
internal sealed class S3ConfigurationAliases(IConfiguration? configuration = null) : IPostConfigureOptions<CollectorOptions>
{
    public const string ClientBucketAlias = "CLIENT_S3_BUCKET";
    public const string BackupBucketAlias = "BACKUP_S3_BUCKET";
    public const string EndpointAlias = "AWS_ENDPOINT_URL_S3";
    public const string GeneralEndpointAlias = "AWS_ENDPOINT_URL";
    public const string RegionAlias = "AWS_REGION";
    public const string DefaultRegionAlias = "AWS_DEFAULT_REGION";

    public void PostConfigure(string? name, CollectorOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var s3 = options.S3;
        s3.ClientBucket = Trimmed(s3.ClientBucket) ?? Read(ClientBucketAlias);
        s3.BackupBucket = Trimmed(s3.BackupBucket) ?? Read(BackupBucketAlias);
        s3.ServiceUrl = Trimmed(s3.ServiceUrl) ?? Read(EndpointAlias) ?? Read(GeneralEndpointAlias);
        s3.Region = Trimmed(s3.Region) ?? Read(RegionAlias) ?? Read(DefaultRegionAlias);
    }

    private static string? Trimmed(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();

    private string? Read(string key) => Trimmed(configuration?[key]);
}
