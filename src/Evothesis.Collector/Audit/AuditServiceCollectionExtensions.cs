using Evothesis.Collector.Audit.Internal;
using Evothesis.Collector.Sinks.ObjectStorage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;

namespace Evothesis.Collector.Audit;

/// <summary>Registers the audit trail: the part of <c>AddEvothesisCollector()</c> this folder owns.</summary>
internal static class AuditServiceCollectionExtensions
{
    // The registered audit sinks, or by default NDJSON objects under audit/ in the client bucket or the storage folder.
    public static IServiceCollection AddAuditTrail(this IServiceCollection services)
    {
        services.TryAddSingleton<AuditMetrics>();
        services.TryAddSingleton(sp => new AuditTrail(
            sp.GetServices<IAuditSink>(),
            sp.GetRequiredService<CollectorObjectStores>(),
            sp.GetRequiredService<AuditMetrics>(),
            sp.GetRequiredService<ILogger<AuditTrail>>()));
        return services;
    }
}
