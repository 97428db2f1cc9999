using Evothesis.Collector.Authorization;
using Evothesis.Collector.Sample.Pixel;
using Microsoft.Extensions.Options;

namespace Microsoft.AspNetCore.Builder;

/// <summary>Maps the development pixel.</summary>
internal static class PixelEndpointRouteBuilderExtensions
{
    /// <summary>Maps <c>GET /pixel/{client_id}/tracking.js</c>.</summary>
    /// <param name="endpoints">The endpoint route builder.</param>
    /// <param name="collectPath">The path the collector is mapped at; the pixel sends events there.</param>
    /// <returns>A builder for endpoint conventions.</returns>
    public static IEndpointConventionBuilder MapDevelopmentPixel(this IEndpointRouteBuilder endpoints, string collectPath)
    {
        var services = endpoints.ServiceProvider;
        var endpoint = new PixelEndpoint(
            PixelScript.FromEmbeddedTemplate(),
            services.GetRequiredService<IClientDirectory>(),
            services.GetRequiredService<IOptions<PixelOptions>>(),
            collectPath,
            services.GetRequiredService<ILogger<PixelEndpoint>>());
        return endpoints
            .MapGet(PixelEndpoint.Pattern, endpoint.HandleAsync)
            .WithDisplayName("Evothesis development pixel");
    }
}
