using Evothesis.Collector;
using Evothesis.Collector.Nats;
using Evothesis.Collector.Nats.Internal;
using Evothesis.Collector.Sinks;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Adds NATS JetStream to the collector: the sink that publishes accepted events, and the loader that reads them back.</summary>
public static class NatsCollectorBuilderExtensions
{
    /// <summary>
    /// Publishes every accepted event to the JetStream stream (<see cref="NatsJetStreamOptions"/>, bound from
    /// <c>Evothesis:Nats</c>), one message per event on <c>{SubjectPrefix}.{client_id}</c> with the event's id as
    /// message id. The sink is put before every other sink, so that in <c>Committed</c> acknowledgement mode
    /// (<c>Evothesis:Batching:AckMode=Committed</c>) a request is answered once the stream has stored its events on a
    /// majority of its replicas.
    /// </summary>
    /// <param name="builder">The collector builder.</param>
    /// <param name="configure">Sets options after configuration is bound; may be <see langword="null"/>.</param>
    /// <returns>The builder.</returns>
    public static ICollectorBuilder AddNatsJetStreamSink(this ICollectorBuilder builder, Action<NatsJetStreamOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var services = builder.Services;
        AddConnection(services, configure);
        if (!services.Any(d => d.ServiceType == typeof(NatsSinkMarker)))
        {
            services.AddSingleton<NatsSinkMarker>();
            services.TryAddSingleton<NatsJetStreamEventSink>();
            services.AddHostedService<NatsStreamInitializer>();

            // First among the sinks: the Committed acknowledgement waits for the first sink's consumer.
            var descriptor = ServiceDescriptor.Singleton<IEventSink>(sp => sp.GetRequiredService<NatsJetStreamEventSink>());
            var first = services.IndexOf(services.FirstOrDefault(d => d.ServiceType == typeof(IEventSink)) ?? descriptor);
            services.Insert(first < 0 ? services.Count : first, descriptor);
        }

        return builder;
    }

    /// <summary>
    /// Runs the loader in this host: for every sink of the collector's configuration (PostgreSQL, the buckets, the host's
    /// own), a durable pull consumer of the JetStream stream (<see cref="NatsLoaderOptions"/>, bound from
    /// <c>Evothesis:Nats:Loader</c>) that writes the events to the sink and acknowledges them once it has stored them.
    /// Several loaders with the same options share the consumers. Do not add the JetStream sink to the same host.
    /// </summary>
    /// <param name="builder">The collector builder.</param>
    /// <param name="configure">Sets the loader's options after configuration is bound; may be <see langword="null"/>.</param>
    /// <param name="configureStream">Sets the stream's options after configuration is bound; may be <see langword="null"/>.</param>
    /// <returns>The builder.</returns>
    public static ICollectorBuilder AddNatsJetStreamLoader(
        this ICollectorBuilder builder, Action<NatsLoaderOptions>? configure = null, Action<NatsJetStreamOptions>? configureStream = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var services = builder.Services;
        AddConnection(services, configureStream);
        var options = services.AddOptions<NatsLoaderOptions>();
        if (!services.Any(d => d.ServiceType == typeof(NatsLoaderMarker)))
        {
            services.AddSingleton<NatsLoaderMarker>();
            services.AddSingleton<IConfigureOptions<NatsLoaderOptions>>(sp => new ConfigureOptions<NatsLoaderOptions>(o =>
                sp.GetService<IConfiguration>()?.GetSection(NatsLoaderOptions.SectionName).Bind(o)));
            options.ValidateOnStart();
            services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<NatsLoaderOptions>, NatsLoaderOptionsValidator>());
            services.TryAddSingleton<NatsLoaderService>();
            services.AddHostedService(sp => sp.GetRequiredService<NatsLoaderService>());
        }

        if (configure is not null)
        {
            options.Configure(configure);
        }

        return builder;
    }

    private static void AddConnection(IServiceCollection services, Action<NatsJetStreamOptions>? configure)
    {
        var options = services.AddOptions<NatsJetStreamOptions>();
        if (!services.Any(d => d.ServiceType == typeof(NatsConnectionSource)))
        {
            // Bound from the host's configuration when it has one; a bare service collection keeps the defaults.
            services.AddSingleton<IConfigureOptions<NatsJetStreamOptions>>(sp => new ConfigureOptions<NatsJetStreamOptions>(o =>
                sp.GetService<IConfiguration>()?.GetSection(NatsJetStreamOptions.SectionName).Bind(o)));
            options.ValidateOnStart();
            services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<NatsJetStreamOptions>, NatsJetStreamOptionsValidator>());
            services.AddSingleton<NatsConnectionSource>();
        }

        if (configure is not null)
        {
            options.Configure(configure);
        }
    }
}

/// <summary>Marks that the JetStream sink is registered.</summary>
internal sealed class NatsSinkMarker;

/// <summary>Marks that the loader is registered.</summary>
internal sealed class NatsLoaderMarker;
