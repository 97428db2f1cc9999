using Microsoft.Extensions.DependencyInjection;

namespace Evothesis.Collector;

/// <summary>
/// Returned by <c>AddEvothesisCollector()</c> so registrations chain: sinks, processors, authorizers.
/// </summary>
public interface ICollectorBuilder
{
    /// <summary>Gets the service collection the collector is registered in.</summary>
    IServiceCollection Services { get; }
}

internal sealed class CollectorBuilder(IServiceCollection services) : ICollectorBuilder
{
    public IServiceCollection Services { get; } = services;
}

/// <summary>Marks that <c>AddEvothesisCollector()</c> was called, for the endpoint mappers to check.</summary>
internal sealed class CollectorMarker;
