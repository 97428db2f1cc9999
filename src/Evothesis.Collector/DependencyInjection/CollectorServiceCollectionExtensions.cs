using System.Diagnostics.CodeAnalysis;
using Evothesis.Collector;
using Evothesis.Collector.Audit;
using Evothesis.Collector.Authorization;
using Evothesis.Collector.Batching;
using Evothesis.Collector.Diagnostics;
using Evothesis.Collector.Ingestion;
using Evothesis.Collector.Privacy;
using Evothesis.Collector.Sinks;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers Evothesis.Collector in a service collection.</summary>
public static class CollectorServiceCollectionExtensions
{
    /// <summary>
    /// Adds the collector with options bound from <paramref name="configuration"/> (by convention the
    /// <c>Evothesis</c> section). Unset options keep their defaults: a clients file for authorization and a
    /// local folder for storage.
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <param name="configuration">The configuration to bind <see cref="CollectorOptions"/> from.</param>
    /// <returns>A builder to add sinks and processors with.</returns>
    public static ICollectorBuilder AddEvothesisCollector(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        services.AddOptions<CollectorOptions>().Bind(configuration);
        return services.AddEvothesisCollector();
    }

    /// <summary>Adds the collector, with options set in code.</summary>
    /// <param name="services">The service collection.</param>
    /// <param name="configure">Sets the options; may be <see langword="null"/> to keep the defaults.</param>
    /// <returns>A builder to add sinks and processors with.</returns>
    [SuppressMessage("ApiDesign", "RS0027:API with optional parameter(s) should have the most parameters amongst its public overloads", Justification = "The documented entry point: AddEvothesisCollector() with defaults, beside the IConfiguration overload of the same length.")]
    public static ICollectorBuilder AddEvothesisCollector(this IServiceCollection services, Action<CollectorOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        var options = services.AddOptions<CollectorOptions>();
        if (configure is not null)
        {
            options.Configure(configure);
        }

        if (services.Any(d => d.ServiceType == typeof(CollectorMarker)))
        {
            return new CollectorBuilder(services);
        }

        services.AddSingleton<CollectorMarker>();
        options.ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<CollectorOptions>, CollectorOptionsValidator>());

        services.AddMetrics();
        services.AddLogging();
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<CollectorMetrics>();
        services.TryAddSingleton(sp => new CollectorPaths(sp.GetService<IHostEnvironment>()));

        // Each capability registers its own part, in the direction the data flows:
        // authorization, privacy and audit, the sinks, the spool and its consumers, the pipeline in front of them.
        services.AddDomainAuthorization();
        services.AddPrivacy();
        services.AddAuditTrail();
        services.AddObjectStorage();
        services.AddRecentEvents();
        services.AddBatching();
        services.AddIngestion();

        return new CollectorBuilder(services);
    }
}
