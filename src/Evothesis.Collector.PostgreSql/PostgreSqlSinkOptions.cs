using System.ComponentModel;
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
    /// Gets or sets the most events one <c>COPY</c> (one transaction) holds. The sink takes what is waiting in the spool
    /// when a connection is free, up to this many events (a request's events are never split, so a single larger
    /// request is written alone): a few events per transaction when traffic is light, large batches under load and
    /// while catching up after an outage. <c>Evothesis:Batching:BatchSize</c> does not apply to this sink. The default
    /// is 5000.
    /// </summary>
    [Range(1, 100_000)]
    public int MaxBatchEvents { get; set; } = 5000;

    /// <summary>
    /// Gets or sets how many batches are written at once, each with its own <c>COPY</c> in its own transaction on its
    /// own pooled connection. PostgreSQL runs a <c>COPY</c> on one server process, so one in flight uses one core of
    /// the database server and leaves it idle while its commit is flushed; more in flight use more cores and overlap
    /// the flushes. Each batch is stored whole or not at all; the spool's cursor moves past a batch only once every
    /// batch before it is stored. The default is 4.
    /// </summary>
    [Range(1, 64)]
    public int MaxInFlight { get; set; } = DefaultMaxInFlight;

    /// <summary>
    /// Gets or sets how long the oldest waiting event may wait for others to join its batch before it is written, when
    /// a connection is free. Small, because a transaction is cheap for PostgreSQL and <c>/events/recent</c> reads the
    /// table; batches grow by themselves under load, while every connection is busy. Not used in
    /// <see cref="Batching.AckMode.Committed"/> mode, where the sender waits for the commit. The default is 10
    /// milliseconds.
    /// </summary>
    public TimeSpan MaxBatchAge { get; set; } = TimeSpan.FromMilliseconds(10);

    /// <summary>
    /// Gets or sets the former name of <see cref="MaxInFlight"/>, still read from configuration: when set, it is used
    /// as <see cref="MaxInFlight"/>. It used to split one large batch over several connections; batches are no longer
    /// split, several batches are written at once instead. The default is <see langword="null"/>.
    /// </summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    [Range(1, 64)]
    public int? WriteConnections { get; set; }

    /// <summary>The default of <see cref="MaxInFlight"/>.</summary>
    internal const int DefaultMaxInFlight = 4;

    /// <summary>Gets <see cref="MaxInFlight"/>, or <see cref="WriteConnections"/> where an older configuration sets it.</summary>
    internal int EffectiveMaxInFlight => WriteConnections ?? MaxInFlight;

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

        if (options.MaxBatchAge < TimeSpan.Zero || options.MaxBatchAge > TimeSpan.FromSeconds(10))
        {
            failures.Add($"Evothesis:PostgreSql:MaxBatchAge ({options.MaxBatchAge}) must be between 00:00:00 and 00:00:10.");
        }

        if (options.WriteConnections is { } connections && options.MaxInFlight != PostgreSqlSinkOptions.DefaultMaxInFlight
            && options.MaxInFlight != connections)
        {
            failures.Add(
                $"Evothesis:PostgreSql:WriteConnections ({connections}) is the former name of MaxInFlight ({options.MaxInFlight}): set only MaxInFlight.");
        }

        if (string.Equals(options.EventsTable, options.AuditTable, StringComparison.Ordinal))
        {
            failures.Add($"Evothesis:PostgreSql:EventsTable and AuditTable must differ (both are '{options.EventsTable}').");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
