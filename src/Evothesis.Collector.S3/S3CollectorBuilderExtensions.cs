using Evothesis.Collector;
using Evothesis.Collector.Sinks.ObjectStorage;
using Evothesis.Collector.Sinks.ObjectStorage.Internal;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Adds S3 object storage to the collector.</summary>
public static class ObjectStorageCollectorBuilderExtensions
{
    /// <summary>
    /// Writes every batch to S3: the client bucket as a partitioned data lake and/or the backup bucket as a full
    /// copy, as set in <c>Evothesis:S3</c> (or <c>CLIENT_S3_BUCKET</c> / <c>BACKUP_S3_BUCKET</c>) and by
    /// <paramref name="configure"/>. Start-up fails when no bucket ends up configured.
    /// </summary>
    /// <remarks>
    /// <c>AddEvothesisCollector()</c> already writes to the buckets the configuration names; call this to set
    /// them in code, or to make a missing bucket a start-up error. The S3 client is the <c>IAmazonS3</c> in the
    /// service provider if there is one, otherwise one built from the options and the standard AWS settings.
    /// </remarks>
    /// <param name="builder">The collector builder.</param>
    /// <param name="configure">Sets the S3 options, after configuration binding; may be <see langword="null"/>.</param>
    /// <returns>The builder.</returns>
    public static ICollectorBuilder AddS3Sink(this ICollectorBuilder builder, Action<S3Options>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.TryAddSingleton<S3SinkRequested>();
        if (configure is not null)
        {
            builder.Services.Configure<CollectorOptions>(options => configure(options.S3));
        }

        return builder;
    }
}
