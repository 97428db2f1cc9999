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
    /// <summary>The sinks as configured, with the buckets <c>AddS3Sink()</c> registered.</summary>
    public SinkSet(
        IEnumerable<IEventSink> registered,
        IOptions<CollectorOptions> options,
        CollectorObjectStores stores,
        ObjectStorageMetrics? metrics,
        ILoggerFactory loggerFactory)
    {
        var buckets = stores.Buckets;
        var logger = loggerFactory.CreateLogger<ObjectStorageEventSink>();
        var sinks = registered.ToList();

        if (buckets?.ClientBucket is { } clientBucket)
        {
            sinks.Add(new ObjectStorageEventSink(
                clientBucket,
                buckets.ClientPrefix,
                name: null,
                dedicatedStores: buckets.UseClientBuckets ? buckets.GetBucket : null,
                warnAboutDedicatedBuckets: true,
                buckets.MaxConcurrentUploads,
                metrics,
                logger,
                buckets.Limits));
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

        if (buckets?.BackupBucket is { } backupBucket)
        {
            // Every client, dedicated bucket or not: the backup must hold everything the database holds.
            sinks.Add(new ObjectStorageEventSink(
                backupBucket,
                buckets.BackupPrefix,
                name: "backup:" + backupBucket.Name,
                dedicatedStores: null,
                warnAboutDedicatedBuckets: false,
                buckets.MaxConcurrentUploads,
                metrics,
                logger,
                buckets.Limits));
        }

        Sinks = [.. sinks];
        ObjectStorageLog.SinksConfigured(loggerFactory.CreateLogger<SinkSet>(), string.Join(", ", Sinks.Select(s => s.Name)));
    }

    /// <summary>The sinks as configured, without buckets: for tests and hand wiring.</summary>
    public SinkSet(IEnumerable<IEventSink> registered, IOptions<CollectorOptions> options, CollectorPaths paths)
        : this(registered, options, new CollectorObjectStores(options, paths), metrics: null, NullLoggerFactory.Instance)
    {
    }

    public IEventSink[] Sinks { get; }
}
