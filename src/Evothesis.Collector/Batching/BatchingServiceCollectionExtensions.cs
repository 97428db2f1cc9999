using Evothesis.Collector.Audit.Internal;
using Evothesis.Collector.Diagnostics;
using Evothesis.Collector.Sinks;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Evothesis.Collector.Batching;

/// <summary>Registers the spool, its consumers and the hosted service that runs them: the part of <c>AddEvothesisCollector()</c> this folder owns.</summary>
internal static class BatchingServiceCollectionExtensions
{
    public static IServiceCollection AddBatching(this IServiceCollection services)
    {
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<CollectorOptions>, BatchingOptionsValidator>());
        services.TryAddSingleton(sp => new EventBatcher(
            sp.GetRequiredService<SinkSet>(),
            sp.GetServices<IBatchCommitObserver>(),
            sp.GetRequiredService<IOptions<CollectorOptions>>(),
            sp.GetRequiredService<CollectorPaths>(),
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<CollectorMetrics>(),
            sp.GetRequiredService<ILoggerFactory>(),
            sp.GetRequiredService<AuditTrail>()));
        services.AddHostedService<CollectorHostedService>();
        return services;
    }
}
