using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace Evothesis.Collector.Sinks.PostgreSql;

/// <summary>
/// Options of the PostgreSQL sink, bound from the <c>Evothesis:PostgreSql</c> configuration section. The
/// connection comes from <see cref="ConnectionString"/>, else from an <c>NpgsqlDataSource</c> the host
/// registered, else from the connection string named <c>Evothesis</c> (<c>ConnectionStrings:Evothesis</c>).
/// </summary>
public sealed class PostgreSqlSinkOptions
{
    /// <summary>The configuration section the options are bound from.</summary>
    public const string SectionName = "Evothesis:PostgreSql";

    /// <summary>The name of the connection string used when no other connection is given.</summary>
    public const string ConnectionStringName = "Evothesis";

    /// <summary>
    /// Gets or sets the connection string. When set, it wins over a host-registered <c>NpgsqlDataSource</c> and
    /// over <c>ConnectionStrings:Evothesis</c>. The default is <see langword="null"/>.
    /// </summary>
    public string? ConnectionString { get; set; }

    /// <summary>Gets or sets the schema the tables live in. The default is <c>public</c>.</summary>
    [Required]
    [RegularExpression(PostgreSqlIdentifier.Pattern)]
    public string Schema { get; set; } = "public";

    /// <summary>
    /// Gets or sets the name of the events table. Daily partitions are named after it
    /// (<c>events_p20261126</c>), so it may be at most 40 characters. The default is <c>events</c>.
    /// </summary>
    [Required]
    [RegularExpression(PostgreSqlIdentifier.TablePattern)]
    public string EventsTable { get; set; } = "events";

    /// <summary>Gets or sets the name of the audit table. The default is <c>audit_log</c>.</summary>
    [Required]
    [RegularExpression(PostgreSqlIdentifier.Pattern)]
    public string AuditTable { get; set; } = "audit_log";

    /// <summary>
    /// Gets or sets a value indicating whether the collector creates its schema, tables and indexes when it
    /// starts (<c>CREATE ... IF NOT EXISTS</c>, safe to run from many instances at once). Set it to
    /// <see langword="false"/> when migrations are run separately from the DDL in
    /// <c>docs/postgresql-schema.sql</c>; the database user then needs no <c>CREATE</c> privilege on the
    /// schema unless <see cref="ManagePartitions"/> stays on. The default is <see langword="true"/>.
    /// </summary>
    public bool CreateSchema { get; set; } = true;

    /// <summary>
    /// Gets or sets a value indicating whether the collector creates the daily partitions of the events table:
    /// <see cref="PartitionsAhead"/> days ahead at start and every hour, and on demand for a day a batch needs.
    /// Set it to <see langword="false"/> when partitions are managed elsewhere (for example pg_partman). The
    /// default is <see langword="true"/>.
    /// </summary>
    public bool ManagePartitions { get; set; } = true;

    /// <summary>
    /// Gets or sets how many daily partitions after today are kept created, so writes never wait on DDL at
    /// midnight. The default is 7.
    /// </summary>
    [Range(1, 366)]
    public int PartitionsAhead { get; set; } = 7;

    /// <summary>
    /// Gets or sets how many UTC days of events are kept: with a value of N, the daily partitions of days before the
    /// last N (today included) are dropped by the hourly maintenance, a day at a time (<c>DROP TABLE</c>, no row-by-row
    /// delete). Only partitions named as the collector names them (<c>events_pYYYYMMDD</c>) are dropped, and only
    /// with <see cref="ManagePartitions"/> on; the audit table is never touched. Events replayed from a backup for a
    /// day before the window are dropped again at the next maintenance. The default is <see langword="null"/>: keep
    /// everything.
    /// </summary>
    [Range(1, 36_500)]
    public int? RetentionDays { get; set; }

    /// <summary>
    /// Gets or sets how many connections one large batch is written over at once. The default, 1, writes every batch
    /// with one <c>COPY</c> in one transaction: a batch is stored whole or not at all. PostgreSQL runs each
    /// <c>COPY</c> on one server process, so a single <c>COPY</c> uses one core of the database server; with a value
    /// above 1, a batch of at least 2 000 events is split into up to this many parts of at least 1 000 events, each
    /// written with its own <c>COPY</c> in its own transaction, at the same time. Each part is then stored whole or
    /// not at all, but a batch that fails may have some of its parts stored; writing it again (the same batch, or the
    /// clients' retries of the same <c>eventId</c>s) stores each event once. Worth it only with large batches
    /// (<c>Batching:BatchSize</c> of 2 000 and more) and a database server with cores to spare.
    /// </summary>
    [Range(1, 16)]
    public int WriteConnections { get; set; } = 1;

    /// <summary>
    /// Gets or sets the fewest events a part of a split batch holds (see <see cref="WriteConnections"/>): below it,
    /// another <c>COPY</c> and commit cost more than they save. Not bound from configuration; tests lower it.
    /// </summary>
    internal int MinEventsPerConnection { get; set; } = 1000;

    /// <summary>Gets or sets how long the health check's <c>SELECT 1</c> may take. The default is 5 seconds.</summary>
    public TimeSpan HealthCheckTimeout { get; set; } = TimeSpan.FromSeconds(5);
}

/// <summary>What the sink accepts as schema and table names: plain unquoted identifiers.</summary>
internal static class PostgreSqlIdentifier
{
    // Lower case only: an unquoted name in hand-written SQL (the DDL file, ad-hoc queries) folds to lower case,
    // so mixed case here would make the same table unreachable without quotes.
    public const string Pattern = "^[a-z_][a-z0-9_]{0,62}$";

    // Partition and index names append up to 23 characters, within PostgreSQL's 63.
    public const string TablePattern = "^[a-z_][a-z0-9_]{0,39}$";
}

[OptionsValidator]
internal sealed partial class PostgreSqlSinkOptionsAnnotationsValidator : IValidateOptions<PostgreSqlSinkOptions>;

/// <summary>Checks what data annotations cannot express; messages name the bad values.</summary>
internal sealed class PostgreSqlSinkOptionsValidator : IValidateOptions<PostgreSqlSinkOptions>
{
    private readonly PostgreSqlSinkOptionsAnnotationsValidator _annotations = new();

    public ValidateOptionsResult Validate(string? name, PostgreSqlSinkOptions options)
    {
        var failures = new List<string>();
        var annotations = _annotations.Validate(name, options);
        if (annotations.Failed)
        {
            failures.AddRange(annotations.Failures);
        }

        if (options.HealthCheckTimeout < TimeSpan.FromMilliseconds(100) || options.HealthCheckTimeout > TimeSpan.FromMinutes(5))
        {
            failures.Add($"Evothesis:PostgreSql:HealthCheckTimeout ({options.HealthCheckTimeout}) must be between 00:00:00.1 and 00:05:00.");
        }

        if (string.Equals(options.EventsTable, options.AuditTable, StringComparison.Ordinal))
        {
            failures.Add($"Evothesis:PostgreSql:EventsTable and AuditTable must differ (both are '{options.EventsTable}').");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
