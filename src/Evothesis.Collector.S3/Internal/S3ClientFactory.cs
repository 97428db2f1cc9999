using Amazon;
using Amazon.Runtime;
using Amazon.S3;
using Microsoft.Extensions.Configuration;

namespace Evothesis.Collector.Sinks.S3.Internal;

/// <summary>Builds the S3 client from <see cref="S3Options"/> and the standard AWS settings, when the host registered none.</summary>
internal static class S3ClientFactory
{
    /// <summary>The region used to sign requests to an S3-compatible endpoint when none is configured.</summary>
    public const string DefaultCompatibleRegion = "us-east-1";

    public static AmazonS3Config CreateConfig(S3Options options)
    {
        var config = new AmazonS3Config();
        if (!string.IsNullOrWhiteSpace(options.ServiceUrl))
        {
            // ServiceURL and RegionEndpoint exclude each other in the SDK: with an endpoint, the region only signs.
            config.ServiceURL = options.ServiceUrl;
            config.AuthenticationRegion = string.IsNullOrWhiteSpace(options.Region) ? DefaultCompatibleRegion : options.Region;
            config.ForcePathStyle = options.ForcePathStyle ?? true;
        }
        else
        {
            if (!string.IsNullOrWhiteSpace(options.Region))
            {
                config.RegionEndpoint = RegionEndpoint.GetBySystemName(options.Region);
            }

            config.ForcePathStyle = options.ForcePathStyle ?? false;
        }

        return config;
    }

    /// <summary>
    /// Keys from configuration (environment variables, user secrets) when both are set; otherwise
    /// <see langword="null"/>, and the SDK's default credential chain applies (environment, profile, SSO,
    /// web identity, container and instance roles).
    /// </summary>
    public static AWSCredentials? GetConfiguredCredentials(IConfiguration? configuration)
    {
        var accessKey = configuration?["AWS_ACCESS_KEY_ID"];
        var secretKey = configuration?["AWS_SECRET_ACCESS_KEY"];
        if (string.IsNullOrWhiteSpace(accessKey) || string.IsNullOrWhiteSpace(secretKey))
        {
            return null;
        }

        var sessionToken = configuration?["AWS_SESSION_TOKEN"];
        return string.IsNullOrWhiteSpace(sessionToken)
            ? new BasicAWSCredentials(accessKey, secretKey)
            : new SessionAWSCredentials(accessKey, secretKey, sessionToken);
    }

    public static AmazonS3Client Create(S3Options options, IConfiguration? configuration)
    {
        var config = CreateConfig(options);
        var credentials = GetConfiguredCredentials(configuration);
        return credentials is null ? new AmazonS3Client(config) : new AmazonS3Client(credentials, config);
    }
}
