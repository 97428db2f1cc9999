using Evothesis.Collector.Authorization;
using Evothesis.Collector.Batching;
using Evothesis.Collector.Diagnostics;
using Evothesis.Collector.Privacy;
using Evothesis.Collector.Privacy.Internal;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Evothesis.Collector.Ingestion;

/// <summary>Registers the pipeline requests enter through: the part of <c>AddEvothesisCollector()</c> this folder owns.</summary>
internal static class IngestionServiceCollectionExtensions
{
    public static IServiceCollection AddIngestion(this IServiceCollection services)
    {
        services.TryAddSingleton(sp => new CollectorPipeline(
            sp.GetRequiredService<IOptions<CollectorOptions>>(),
            sp.GetRequiredService<IDomainAuthorizer>(),
            sp.GetRequiredService<PrivacyRules>(),
            sp.GetServices<IEventProcessor>(),
            sp.GetRequiredService<EventBatcher>(),
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<CollectorMetrics>(),
            sp.GetRequiredService<ILogger<CollectorPipeline>>()));
        return services;
    }
}
