using System.Diagnostics.CodeAnalysis;
using Evothesis.Collector;
using Evothesis.Collector.Audit;
using Evothesis.Collector.Audit.Internal;
using Evothesis.Collector.Sinks;
using Evothesis.Collector.Sinks.PostgreSql;
using Evothesis.Collector.Sinks.PostgreSql.Internal;
using Evothesis.Collector.Sinks.Recent;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Adds the PostgreSQL sink to the collector.</summary>
public static class PostgreSqlCollectorBuilderExtensions
{
    /// <summary>
    /// Writes every batch to PostgreSQL with binary COPY, serves <c>GET /events/recent</c> from it, stores audit
    /// records in its audit table (unless the host registered another <see cref="IAuditSink"/>) and adds the
    /// <c>evothesis-postgresql</c> health check. Options are bound from <c>Evothesis:PostgreSql</c>; the connection
    /// is <see cref="PostgreSqlSinkOptions.ConnectionString"/>, else a registered <c>NpgsqlDataSource</c>, else
    /// <c>ConnectionStrings:Evothesis</c>.
    /// </summary>
    /// <param name="builder">The collector builder.</param>
    /// <param name="configure">Sets options after configuration is bound; may be <see langword="null"/>.</param>
    /// <returns>The builder.</returns>
    [SuppressMessage("ApiDesign", "RS0026:Do not add multiple public overloads with optional parameters", Justification = "AddPostgreSqlSink() and AddPostgreSqlSink(connectionString) are the documented forms; each takes an optional configure callback.")]
    public static ICollectorBuilder AddPostgreSqlSink(this ICollectorBuilder builder, Action<PostgreSqlSinkOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var services = builder.Services;
        var options = services.AddOptions<PostgreSqlSinkOptions>();
        if (!services.Any(d => d.ServiceType == typeof(PostgreSqlSinkMarker)))
        {
            services.AddSingleton<PostgreSqlSinkMarker>();

            // Bound from the host's configuration when it has one; a bare service collection keeps the defaults.
            services.AddSingleton<IConfigureOptions<PostgreSqlSinkOptions>>(sp => new ConfigureOptions<PostgreSqlSinkOptions>(o =>
            {
                if (sp.GetService<IConfiguration>() is { } configuration)
                {
                    configuration.GetSection(PostgreSqlSinkOptions.SectionName).Bind(o);
                }
            }));
            options.ValidateOnStart();
            services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<PostgreSqlSinkOptions>, PostgreSqlSinkOptionsValidator>());

            services.TryAddSingleton(PostgreSqlConnectionSource.Create);
            services.TryAddSingleton<PostgreSqlSchemaManager>();
            services.TryAddSingleton<PostgreSqlMetrics>();
            services.TryAddEnumerable(ServiceDescriptor.Singleton<IEventSink, PostgreSqlEventSink>());
            services.Replace(ServiceDescriptor.Singleton<IRecentEventStore, PostgreSqlRecentEventStore>());

            // The audit table replaces the default audit files, and a sink the host adds replaces the table,
            // whether it is added before or after this call: so the table is the trail's default, not one more
            // registered IAuditSink that a later AddAuditSink would join.
            services.TryAddSingleton<PostgreSqlAuditSink>();
            services.Replace(ServiceDescriptor.Singleton(sp => new AuditTrail(
                sp.GetServices<IAuditSink>(),
                sp.GetRequiredService<PostgreSqlAuditSink>,
                sp.GetRequiredService<AuditMetrics>(),
                sp.GetRequiredService<ILogger<AuditTrail>>())));
            services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, PostgreSqlMaintenanceService>());
            services.AddHealthChecks().AddCheck<PostgreSqlHealthCheck>(PostgreSqlHealthCheck.Name, tags: ["evothesis", "postgresql"]);
        }

        if (configure is not null)
        {
            options.Configure(configure);
        }

        return builder;
    }

    /// <summary>Adds the PostgreSQL sink with a connection string; see <see cref="AddPostgreSqlSink(ICollectorBuilder, Action{PostgreSqlSinkOptions}?)"/>.</summary>
    /// <param name="builder">The collector builder.</param>
    /// <param name="connectionString">The PostgreSQL connection string.</param>
    /// <param name="configure">Sets the other options; may be <see langword="null"/>.</param>
    /// <returns>The builder.</returns>
    [SuppressMessage("ApiDesign", "RS0026:Do not add multiple public overloads with optional parameters", Justification = "AddPostgreSqlSink() and AddPostgreSqlSink(connectionString) are the documented forms; each takes an optional configure callback.")]
    public static ICollectorBuilder AddPostgreSqlSink(this ICollectorBuilder builder, string connectionString, Action<PostgreSqlSinkOptions>? configure = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        return builder.AddPostgreSqlSink(o =>
        {
            o.ConnectionString = connectionString;
            configure?.Invoke(o);
        });
    }
}

/// <summary>Marks that the PostgreSQL sink's services are registered.</summary>
internal sealed class PostgreSqlSinkMarker;
