using Evothesis.Collector.Batching;
using Evothesis.Collector.Sinks.ObjectStorage;
using Evothesis.Collector.Sinks.ObjectStorage.Internal;
using Evothesis.Collector.Sinks.Recent;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Evothesis.Collector.Sinks;

/// <summary>Registers the object stores, the sink set and the recent-events buffer: the part of <c>AddEvothesisCollector()</c> this folder owns.</summary>
internal static class SinksServiceCollectionExtensions
{
    // The local folder, and the S3 buckets when AddS3Sink() (Evothesis.Collector.S3) registered them; the sink set
    // composes them with the sinks the host registered.
    public static IServiceCollection AddObjectStorage(this IServiceCollection services)
    {
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<CollectorOptions>, StorageOptionsValidator>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<CollectorOptions>, UnregisteredBucketsValidator>());
        services.TryAddSingleton<ObjectStorageMetrics>();
        services.TryAddSingleton(sp => new CollectorObjectStores(
            sp.GetRequiredService<IOptions<CollectorOptions>>(),
            sp.GetRequiredService<CollectorPaths>(),
            sp.GetService<IObjectStorageBuckets>()));
        services.TryAddSingleton(sp => new SinkSet(
            sp.GetServices<IEventSink>(),
            sp.GetRequiredService<IOptions<CollectorOptions>>(),
            sp.GetRequiredService<CollectorObjectStores>(),
            sp.GetRequiredService<ObjectStorageMetrics>(),
            sp.GetRequiredService<ILoggerFactory>()));
        return services;
    }

    // The in-memory buffer behind GET /events/recent, filled as batches are committed; a sink package may replace the store.
    public static IServiceCollection AddRecentEvents(this IServiceCollection services)
    {
        services.TryAddSingleton<InMemoryRecentEventStore>();
        services.TryAddSingleton<IRecentEventStore>(sp => sp.GetRequiredService<InMemoryRecentEventStore>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IBatchCommitObserver, RecentEventsObserver>());
        return services;
    }
}
