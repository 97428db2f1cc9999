using System.Diagnostics.CodeAnalysis;
using Evothesis.Collector;
using Evothesis.Collector.Audit;
using Evothesis.Collector.Authorization;
using Evothesis.Collector.Authorization.Internal;
using Evothesis.Collector.Diagnostics;
using Evothesis.Collector.Privacy;
using Evothesis.Collector.Sinks;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Adds sinks, processors and authorizers to the collector.</summary>
public static class CollectorBuilderExtensions
{
    /// <summary>
    /// Adds a sink every batch is written to. Once any sink is added, the embedded local-folder sink is no
    /// longer used.
    /// </summary>
    /// <typeparam name="TSink">The sink type, resolved as a singleton.</typeparam>
    /// <param name="builder">The collector builder.</param>
    /// <returns>The builder.</returns>
    public static ICollectorBuilder AddEventSink<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicConstructors)] TSink>(this ICollectorBuilder builder)
        where TSink : class, IEventSink
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IEventSink, TSink>());
        return builder;
    }

    /// <summary>Adds a sink instance every batch is written to.</summary>
    /// <param name="builder">The collector builder.</param>
    /// <param name="sink">The sink.</param>
    /// <returns>The builder.</returns>
    public static ICollectorBuilder AddEventSink(this ICollectorBuilder builder, IEventSink sink)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(sink);
        builder.Services.AddSingleton(sink);
        return builder;
    }

    /// <summary>
    /// Adds a processor run on every accepted request's events, after the collector's own (consent, then
    /// redaction), so it sees only events that may be kept, already redacted. Processors run in the order added.
    /// </summary>
    /// <typeparam name="TProcessor">The processor type, resolved as a singleton.</typeparam>
    /// <param name="builder">The collector builder.</param>
    /// <returns>The builder.</returns>
    public static ICollectorBuilder AddEventProcessor<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicConstructors)] TProcessor>(this ICollectorBuilder builder)
        where TProcessor : class, IEventProcessor
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IEventProcessor, TProcessor>());
        return builder;
    }

    /// <summary>Adds a processor instance; see <see cref="AddEventProcessor{TProcessor}(ICollectorBuilder)"/>.</summary>
    /// <param name="builder">The collector builder.</param>
    /// <param name="processor">The processor.</param>
    /// <returns>The builder.</returns>
    public static ICollectorBuilder AddEventProcessor(this ICollectorBuilder builder, IEventProcessor processor)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(processor);
        builder.Services.AddSingleton(processor);
        return builder;
    }

    /// <summary>
    /// Adds a sink the audit records of <c>hipaa</c> clients are written to. Once any audit sink is added, the
    /// default (NDJSON objects under <c>audit/</c> in the client bucket, or in the storage folder without one) is no
    /// longer used. A request's events are accepted only once every audit sink stored its record.
    /// </summary>
    /// <typeparam name="TSink">The sink type, resolved as a singleton.</typeparam>
    /// <param name="builder">The collector builder.</param>
    /// <returns>The builder.</returns>
    public static ICollectorBuilder AddAuditSink<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicConstructors)] TSink>(this ICollectorBuilder builder)
        where TSink : class, IAuditSink
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IAuditSink, TSink>());
        return builder;
    }

    /// <summary>Adds an audit sink instance; see <see cref="AddAuditSink{TSink}(ICollectorBuilder)"/>.</summary>
    /// <param name="builder">The collector builder.</param>
    /// <param name="sink">The sink.</param>
    /// <returns>The builder.</returns>
    public static ICollectorBuilder AddAuditSink(this ICollectorBuilder builder, IAuditSink sink)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(sink);
        builder.Services.AddSingleton(sink);
        return builder;
    }

    /// <summary>Replaces the domain authorizer.</summary>
    /// <typeparam name="TAuthorizer">The authorizer type, resolved as a singleton.</typeparam>
    /// <param name="builder">The collector builder.</param>
    /// <returns>The builder.</returns>
    public static ICollectorBuilder UseDomainAuthorizer<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicConstructors)] TAuthorizer>(this ICollectorBuilder builder)
        where TAuthorizer : class, IDomainAuthorizer
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.Replace(ServiceDescriptor.Singleton<IDomainAuthorizer, TAuthorizer>());
        return builder;
    }

    /// <summary>
    /// Replaces the client directory (lookups by client id). By default the domain authorizer is the
    /// directory when it implements <see cref="IClientDirectory"/>, as the embedded clients file and the
    /// pixel-management authorizer do; with another authorizer, pixel-management is the directory when it is configured.
    /// </summary>
    /// <typeparam name="TDirectory">The directory type, resolved as a singleton.</typeparam>
    /// <param name="builder">The collector builder.</param>
    /// <returns>The builder.</returns>
    public static ICollectorBuilder UseClientDirectory<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicConstructors)] TDirectory>(this ICollectorBuilder builder)
        where TDirectory : class, IClientDirectory
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.Replace(ServiceDescriptor.Singleton<IClientDirectory, TDirectory>());
        return builder;
    }

    /// <summary>
    /// Adds the collector's health checks, tagged <c>evothesis</c>: <c>evothesis-collector</c> (unhealthy when events
    /// are not being written, degraded when the queue is filling up) and <c>evothesis-pixel-management</c>
    /// (pixel-management reachability: degraded while cached configurations keep known domains working, unhealthy
    /// when nothing is cached; healthy when pixel-management is not used). pixel-management is probed at most once per
    /// <see cref="AuthorizationOptions.HealthCheckCacheDuration"/>, however often the checks run.
    /// </summary>
    /// <param name="builder">The health checks builder.</param>
    /// <returns>The builder.</returns>
    public static IHealthChecksBuilder AddEvothesisCollector(this IHealthChecksBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);

        // One instance, which holds the last probe: health checks are otherwise created for every run.
        builder.Services.TryAddSingleton(sp => new PixelManagementHealthCheck(
            sp.GetRequiredService<IDomainAuthorizer>(),
            sp.GetRequiredService<IOptions<CollectorOptions>>()));
        return builder
            .AddCheck<CollectorHealthCheck>("evothesis-collector", tags: ["evothesis"])
            .AddCheck<PixelManagementHealthCheck>("evothesis-pixel-management", tags: ["evothesis", "pixel-management"]);
    }
}
