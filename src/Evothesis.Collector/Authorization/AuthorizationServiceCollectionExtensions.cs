using Evothesis.Collector.Authorization.Internal;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Http.Resilience;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Evothesis.Collector.Authorization;

/// <summary>Registers domain authorization and the client directory: the part of <c>AddEvothesisCollector()</c> this folder owns.</summary>
internal static class AuthorizationServiceCollectionExtensions
{
    // pixel-management when a URL is configured (Evothesis:Authorization:PixelManagementUrl or PIXEL_MANAGEMENT_URL),
    // the clients file otherwise; an authorizer the host registered wins over both.
    public static IServiceCollection AddDomainAuthorization(this IServiceCollection services)
    {
        services.AddConfigurationAlias<CollectorOptions>(
            "PIXEL_MANAGEMENT_URL",
            static o => o.Authorization.PixelManagementUrl,
            static (o, value) => o.Authorization.PixelManagementUrl = value);
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<CollectorOptions>, AuthorizationOptionsValidator>());

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

        return services;
    }

    private static bool UsesPixelManagement(IServiceProvider services) =>
        !string.IsNullOrWhiteSpace(services.GetRequiredService<IOptions<CollectorOptions>>().Value.Authorization.PixelManagementUrl);
}
