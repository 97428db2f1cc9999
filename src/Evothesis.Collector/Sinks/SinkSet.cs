using Evothesis.Collector.Sinks.ObjectStorage;
using Evothesis.Collector.Sinks.ObjectStorage.Internal;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Evothesis.Collector.Sinks;

/// <summary>
/// The sinks every batch goes to: those the host registered, the S3 client bucket when one is configured,
/// the embedded local folder when neither is, and the S3 backup bucket when one is configured.
/// </summary>
/// <remarks>
/// The local folder and the client bucket write the same layout, so a deployment moves from one to the other
/// by setting <c>CLIENT_S3_BUCKET</c>. The backup takes a full copy of every batch (not only the batches
/// another sink failed to take): that copy is what a lost database is rebuilt from.
/// </remarks>
internal sealed class SinkSet
{
    /// <summary>The sinks as configured, with the S3 client created from the service provider when a bucket is set.</summary>
    public SinkSet(
        IEnumerable<IEventSink> registered,
        IOptions<CollectorOptions> options,
        CollectorObjectStores stores,
        ObjectStorageMetrics? metrics,
        ILoggerFactory loggerFactory)
    {
        var s3 = options.Value.S3;
        var logger = loggerFactory.CreateLogger<ObjectStorageEventSink>();
        var sinks = registered.ToList();

        if (stores.ClientBucket is { } clientBucket)
        {
            sinks.Add(new ObjectStorageEventSink(
                clientBucket,
                s3.Prefix,
                name: null,
                dedicatedStores: s3.UseClientBuckets ? stores.GetBucket : null,
                warnAboutDedicatedBuckets: true,
                s3.MaxConcurrentUploads,
                metrics,
                logger,
                ObjectLimits.For(s3)));
        }

        if (sinks.Count == 0)
        {
            sinks.Add(new ObjectStorageEventSink(
                stores.LocalFolder,
                prefix: null,
                name: null,
                dedicatedStores: null,
                warnAboutDedicatedBuckets: true,
                maxConcurrentUploads: 1,
                metrics,
                logger,
                ObjectLimits.For(options.Value.Storage)));
        }

        if (stores.BackupBucket is { } backupBucket)
        {
            // Every client, dedicated bucket or not: the backup must hold everything the database holds.
            sinks.Add(new ObjectStorageEventSink(
                backupBucket,
                s3.BackupPrefix,
                name: "backup:" + backupBucket.Name,
                dedicatedStores: null,
                warnAboutDedicatedBuckets: false,
                s3.MaxConcurrentUploads,
                metrics,
                logger,
                ObjectLimits.For(s3)));
        }

        Sinks = [.. sinks];
        ObjectStorageLog.SinksConfigured(loggerFactory.CreateLogger<SinkSet>(), string.Join(", ", Sinks.Select(s => s.Name)));
    }

    /// <summary>The sinks as configured, without a service provider (no host-registered S3 client): for tests and hand wiring.</summary>
    public SinkSet(IEnumerable<IEventSink> registered, IOptions<CollectorOptions> options, CollectorPaths paths)
        : this(
            registered,
            options,
            new CollectorObjectStores(options, paths, EmptyServices.Instance, NullLogger<CollectorObjectStores>.Instance),
            metrics: null,
            NullLoggerFactory.Instance)
    {
    }

    public IEventSink[] Sinks { get; }

    private sealed class EmptyServices : IServiceProvider
    {
        public static readonly EmptyServices Instance = new();

        public object? GetService(Type serviceType) => null;
    }
}
