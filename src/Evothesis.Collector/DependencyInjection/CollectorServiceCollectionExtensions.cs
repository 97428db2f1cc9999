using Evothesis.Collector;
using Evothesis.Collector.Authorization;
using Evothesis.Collector.Authorization.Internal;
using Evothesis.Collector.Batching;
using Evothesis.Collector.Diagnostics;
using Evothesis.Collector.Ingestion;
using Evothesis.Collector.Privacy;
using Evothesis.Collector.Privacy.Internal;
using Evothesis.Collector.Sinks;
using Evothesis.Collector.Sinks.ObjectStorage;
using Evothesis.Collector.Sinks.ObjectStorage.Internal;
using Evothesis.Collector.Sinks.Recent;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Http.Resilience;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
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

        AddDomainAuthorization(services);

        // The authorizer doubles as the client directory when it can (the clients file and pixel-management do), so
        // both answer from one source and one cache. A host authorizer that cannot leaves pixel-management, when it is
        // configured, as the directory; otherwise lookups fail with a message naming UseClientDirectory<T>().
        services.TryAddSingleton<IClientDirectory>(sp =>
        {
            var authorizer = sp.GetRequiredService<IDomainAuthorizer>();
            if (authorizer is IClientDirectory directory)
            {
                return directory;
            }

            return UsesPixelManagement(sp)
                ? sp.GetRequiredService<HttpDomainAuthorizer>()
                : new MissingClientDirectory(authorizer.GetType());
        });

        services.TryAddSingleton<InMemoryRecentEventStore>();
        services.TryAddSingleton<IRecentEventStore>(sp => sp.GetRequiredService<InMemoryRecentEventStore>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IBatchCommitObserver, RecentEventsObserver>());

        services.TryAddSingleton<PrivacyMetrics>();
        services.TryAddSingleton(sp => new JsonRedactor(sp.GetRequiredService<IOptions<CollectorOptions>>().Value.Privacy));
        services.TryAddSingleton<ConsentProcessor>();
        services.TryAddSingleton<RedactionProcessor>();
        services.TryAddSingleton<PrivacyRules>();
        services.TryAddSingleton(sp => new AuditTrail(
            sp.GetServices<IAuditSink>(),
            sp.GetRequiredService<CollectorObjectStores>(),
            sp.GetRequiredService<PrivacyMetrics>(),
            sp.GetRequiredService<ILogger<AuditTrail>>()));

        AddObjectStorage(services);
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
        services.TryAddSingleton(sp => new CollectorPipeline(
            sp.GetRequiredService<IOptions<CollectorOptions>>(),
            sp.GetRequiredService<IDomainAuthorizer>(),
            sp.GetRequiredService<PrivacyRules>(),
            sp.GetServices<Evothesis.Collector.Privacy.IEventProcessor>(),
            sp.GetRequiredService<EventBatcher>(),
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<CollectorMetrics>(),
            sp.GetRequiredService<ILogger<CollectorPipeline>>()));

        return new CollectorBuilder(services);
    }

    // pixel-management when a URL is configured (Evothesis:Authorization:PixelManagementUrl or PIXEL_MANAGEMENT_URL),
    // the clients file otherwise; an authorizer the host registered wins over both.
    private static void AddDomainAuthorization(IServiceCollection services)
    {
        services.AddConfigurationAlias(
            "PIXEL_MANAGEMENT_URL",
            static o => o.Authorization.PixelManagementUrl,
            static (o, value) => o.Authorization.PixelManagementUrl = value);

        services.TryAddSingleton<ClientsFileDomainAuthorizer>();
        services.TryAddSingleton<AuthorizationMetrics>();
        services.TryAddSingleton(sp => new HttpDomainAuthorizer(
            sp.GetRequiredService<PixelManagementClient>,
            sp.GetRequiredService<IOptions<CollectorOptions>>(),
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<AuthorizationMetrics>(),
            sp.GetRequiredService<ILogger<HttpDomainAuthorizer>>()));
        services.TryAddSingleton<IDomainAuthorizer>(sp =>
            UsesPixelManagement(sp)
                ? sp.GetRequiredService<HttpDomainAuthorizer>()
                : sp.GetRequiredService<ClientsFileDomainAuthorizer>());

        services
            .AddHttpClient<PixelManagementClient>(AuthorizationOptions.PixelManagementHttpClientName, static (sp, http) =>
            {
                var authorization = sp.GetRequiredService<IOptions<CollectorOptions>>().Value.Authorization;

                // A backstop behind the resilience handler's total timeout, which also covers reading the body.
                http.Timeout = authorization.PixelManagementTimeout + TimeSpan.FromSeconds(1);
                http.MaxResponseContentBufferSize = PixelManagementClient.MaxResponseBytes;
                http.DefaultRequestHeaders.UserAgent.ParseAdd("Evothesis.Collector/" + typeof(CollectorOptions).Assembly.GetName().Version?.ToString(3));
            })
            .AddStandardResilienceHandler()
            .Configure(static (resilience, sp) =>
                PixelManagementResilience.Apply(resilience, sp.GetRequiredService<IOptions<CollectorOptions>>().Value.Authorization));
    }

    // S3 buckets when configured (Evothesis:S3 or CLIENT_S3_BUCKET / BACKUP_S3_BUCKET / AWS_ENDPOINT_URL_S3), the local
    // folder otherwise; the sink set composes them with the sinks the host registered.
    private static void AddObjectStorage(IServiceCollection services)
    {
        // Registered in order: a later alias only fills what an earlier one left unset.
        services.AddConfigurationAlias("CLIENT_S3_BUCKET", static o => o.S3.ClientBucket, static (o, value) => o.S3.ClientBucket = value);
        services.AddConfigurationAlias("BACKUP_S3_BUCKET", static o => o.S3.BackupBucket, static (o, value) => o.S3.BackupBucket = value);
        services.AddConfigurationAlias("AWS_ENDPOINT_URL_S3", static o => o.S3.ServiceUrl, static (o, value) => o.S3.ServiceUrl = value);
        services.AddConfigurationAlias("AWS_ENDPOINT_URL", static o => o.S3.ServiceUrl, static (o, value) => o.S3.ServiceUrl = value);
        services.AddConfigurationAlias("AWS_REGION", static o => o.S3.Region, static (o, value) => o.S3.Region = value);
        services.AddConfigurationAlias("AWS_DEFAULT_REGION", static o => o.S3.Region, static (o, value) => o.S3.Region = value);

        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<CollectorOptions>, S3OptionsValidator>());
        services.TryAddSingleton<ObjectStorageMetrics>();
        services.TryAddSingleton(sp => new CollectorObjectStores(
            sp.GetRequiredService<IOptions<CollectorOptions>>(),
            sp.GetRequiredService<CollectorPaths>(),
            sp,
            sp.GetRequiredService<ILogger<CollectorObjectStores>>()));
        services.TryAddSingleton(sp => new SinkSet(
            sp.GetServices<IEventSink>(),
            sp.GetRequiredService<IOptions<CollectorOptions>>(),
            sp.GetRequiredService<CollectorObjectStores>(),
            sp.GetRequiredService<ObjectStorageMetrics>(),
            sp.GetRequiredService<ILoggerFactory>()));
    }

    private static bool UsesPixelManagement(IServiceProvider services) =>
        !string.IsNullOrWhiteSpace(services.GetRequiredService<IOptions<CollectorOptions>>().Value.Authorization.PixelManagementUrl);
}
