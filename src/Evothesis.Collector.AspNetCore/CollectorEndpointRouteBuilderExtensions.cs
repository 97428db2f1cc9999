using Evothesis.Collector;
using Evothesis.Collector.AspNetCore.Internal;
using Evothesis.Collector.Authorization.Internal;
using Evothesis.Collector.Ingestion;
using Evothesis.Collector.Sinks.Recent;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Microsoft.AspNetCore.Builder;

/// <summary>Maps the collector's endpoints.</summary>
public static class CollectorEndpointRouteBuilderExtensions
{
    /// <summary>
    /// Maps <c>POST</c> (events) and <c>OPTIONS</c> (CORS preflight) at <paramref name="pattern"/>. CORS is answered
    /// by the endpoint: the exact <c>Origin</c> is echoed only when its domain is authorized (with <c>Vary: Origin</c>);
    /// other origins get no grant. Do not apply another CORS policy to it.
    /// </summary>
    /// <param name="endpoints">The endpoint route builder.</param>
    /// <param name="pattern">The route pattern. The default is <c>/collect</c>.</param>
    /// <returns>A builder to add conventions such as <c>RequireRateLimiting()</c> with.</returns>
    /// <exception cref="InvalidOperationException"><c>AddEvothesisCollector()</c> was not called.</exception>
    public static IEndpointConventionBuilder MapEvothesisCollector(this IEndpointRouteBuilder endpoints, string pattern = "/collect")
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        ArgumentException.ThrowIfNullOrWhiteSpace(pattern);
        var pipeline = GetRequired<CollectorPipeline>(endpoints);
        var endpoint = new CollectEndpoint(
            pipeline,
            endpoints.ServiceProvider.GetRequiredService<AuthorizationMetrics>(),
            endpoints.ServiceProvider.GetRequiredService<IOptions<CollectorOptions>>().Value);
        string[] methods = [HttpMethods.Post, HttpMethods.Options];
        return endpoints
            .MapMethods(pattern, methods, endpoint.HandleAsync)

            // Routing sends a CORS preflight for POST to this endpoint, which answers it itself.
            .WithMetadata(new HttpMethodMetadata(methods, acceptCorsPreflight: true))
            .WithDisplayName("Evothesis collect");
    }

    /// <summary>
    /// Maps <c>GET</c> at <paramref name="pattern"/>: the most recently stored events of every client
    /// (<c>?limit=N</c>, 1 to 1000, default 10; <c>?client_id=X</c> to filter). It exposes every client's
    /// data: map it only in development or behind authorization.
    /// </summary>
    /// <param name="endpoints">The endpoint route builder.</param>
    /// <param name="pattern">The route pattern. The default is <c>/events/recent</c>.</param>
    /// <returns>A builder to add conventions such as <c>RequireAuthorization()</c> with.</returns>
    /// <exception cref="InvalidOperationException"><c>AddEvothesisCollector()</c> was not called.</exception>
    public static IEndpointConventionBuilder MapEvothesisRecentEvents(this IEndpointRouteBuilder endpoints, string pattern = "/events/recent")
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        ArgumentException.ThrowIfNullOrWhiteSpace(pattern);
        var store = GetRequired<IRecentEventStore>(endpoints);

        // The in-memory store is filled only from now on: a host that never maps the endpoint keeps no events in memory.
        (store as InMemoryRecentEventStore)?.Serve();
        var endpoint = new RecentEventsEndpoint(store);
        return endpoints
            .MapMethods(pattern, [HttpMethods.Get], endpoint.HandleAsync)
            .WithDisplayName("Evothesis recent events");
    }

    private static T GetRequired<T>(IEndpointRouteBuilder endpoints)
        where T : notnull
    {
        if (endpoints.ServiceProvider.GetService<CollectorMarker>() is null)
        {
            throw new InvalidOperationException(
                "Unable to find the required services. Add them by calling 'IServiceCollection.AddEvothesisCollector()' " +
                "in the application startup code.");
        }

        return endpoints.ServiceProvider.GetRequiredService<T>();
    }
}
