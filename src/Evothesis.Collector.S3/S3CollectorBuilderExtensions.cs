using Evothesis.Collector;
using Evothesis.Collector.Sinks.ObjectStorage.Internal;
using Evothesis.Collector.Sinks.S3;
using Evothesis.Collector.Sinks.S3.Internal;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Adds S3 object storage to the collector.</summary>
public static class S3CollectorBuilderExtensions
{
    /// <summary>
    /// Writes every batch to S3: the client bucket as a partitioned data lake (clients that name their own bucket
    /// are written there) and/or the backup bucket as a full copy, as set in <c>Evothesis:S3</c> (or
    /// <c>CLIENT_S3_BUCKET</c> / <c>BACKUP_S3_BUCKET</c>, <c>AWS_ENDPOINT_URL_S3</c>, <c>AWS_REGION</c>) and by
    /// <paramref name="configure"/>. Start-up fails when no bucket ends up configured.
    /// </summary>
    /// <remarks>
    /// The client bucket replaces the embedded local folder; the audit records of <c>hipaa</c> clients go under
    /// <c>audit/</c> in it unless an audit sink is registered. The S3 client is the <c>IAmazonS3</c> in the service
    /// provider if there is one, otherwise one built from the options and the standard AWS settings.
    /// </remarks>
    /// <param name="builder">The collector builder.</param>
    /// <param name="configure">Sets the S3 options, after configuration binding; may be <see langword="null"/>.</param>
    /// <returns>The builder.</returns>
    public static ICollectorBuilder AddS3Sink(this ICollectorBuilder builder, Action<S3Options>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.AddS3ObjectStorage();
        builder.Services.TryAddSingleton<S3SinkRequested>();
        if (configure is not null)
        {
            builder.Services.Configure(configure);
        }

        return builder;
    }

    /// <summary>
    /// Registers the S3 buckets without requiring one: the buckets the configuration names become sinks, and any
    /// bucket can be read or written through the same client (the replay tool's <c>s3://bucket</c>).
    /// </summary>
    internal static ICollectorBuilder AddS3ObjectStorage(this ICollectorBuilder builder)
    {
        var services = builder.Services;
        if (services.Any(d => d.ServiceType == typeof(S3Buckets)))
        {
            return builder;
        }

        // Bound from the host's configuration when it has one; a bare service collection keeps the defaults.
        services.AddSingleton<IConfigureOptions<S3Options>>(sp => new ConfigureOptions<S3Options>(o =>
        {
            if (sp.GetService<IConfiguration>() is { } configuration)
            {
                configuration.GetSection(S3Options.SectionName).Bind(o);
            }
        }));

        // Registered in order: a later alias only fills what an earlier one left unset.
        services.AddConfigurationAlias<S3Options>("CLIENT_S3_BUCKET", static o => o.ClientBucket, static (o, value) => o.ClientBucket = value);
        services.AddConfigurationAlias<S3Options>("BACKUP_S3_BUCKET", static o => o.BackupBucket, static (o, value) => o.BackupBucket = value);
        services.AddConfigurationAlias<S3Options>("AWS_ENDPOINT_URL_S3", static o => o.ServiceUrl, static (o, value) => o.ServiceUrl = value);
        services.AddConfigurationAlias<S3Options>("AWS_ENDPOINT_URL", static o => o.ServiceUrl, static (o, value) => o.ServiceUrl = value);
        services.AddConfigurationAlias<S3Options>("AWS_REGION", static o => o.Region, static (o, value) => o.Region = value);
        services.AddConfigurationAlias<S3Options>("AWS_DEFAULT_REGION", static o => o.Region, static (o, value) => o.Region = value);

        services.AddOptions<S3Options>().ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<S3Options>, S3OptionsValidator>());
        services.TryAddSingleton<S3Buckets>();
        services.TryAddSingleton<IObjectStorageBuckets>(sp => sp.GetRequiredService<S3Buckets>());
        return builder;
    }
}
