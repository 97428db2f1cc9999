using System.Globalization;
using System.Text;

namespace Evothesis.Collector.Sinks.PostgreSql.Internal;

/// <summary>
/// The collector's tables as SQL: the events table (range-partitioned by <c>received_at</c>, one partition per
/// UTC day), its daily partitions and the audit table. The same text is in <c>docs/postgresql-schema.sql</c>.
/// </summary>
internal sealed class PostgreSqlSchema
{
    /// <summary>The events table's columns in table (and COPY) order.</summary>
    public const string EventColumns =
        "id, event_id, client_id, site_id, session_id, event_type, event_time, client_timestamp, received_at, " +
        "page_data, event_data, custom_data, consent, ip, user_agent";

    public const string AuditColumns =
        "id, received_at, client_id, site_id, request_id, event_count, event_types, ip_hash, redactions";

    // One key for every collector in a database: schema changes are rare, so serializing them all is cheap,
    // and it keeps instances that start together from racing on CREATE ... IF NOT EXISTS.
    public const long AdvisoryLockKey = 0x45766f7468657369; // "Evothesi"

    public PostgreSqlSchema(string schema, string eventsTable, string auditTable)
    {
        SchemaName = schema;
        EventsTableName = eventsTable;
        AuditTableName = auditTable;
        Events = Qualify(eventsTable);
        Audit = Qualify(auditTable);
    }

    public PostgreSqlSchema(PostgreSqlSinkOptions options)
        : this(options.Schema, options.EventsTable, options.AuditTable)
    {
    }

    public string SchemaName { get; }

    public string EventsTableName { get; }

    public string AuditTableName { get; }

    /// <summary>Gets the quoted, schema-qualified events table.</summary>
    public string Events { get; }

    /// <summary>Gets the quoted, schema-qualified audit table.</summary>
    public string Audit { get; }

    public static string Quote(string identifier) => "\"" + identifier.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";

    public static DateOnly DayOf(DateTimeOffset receivedAt) => DateOnly.FromDateTime(receivedAt.UtcDateTime);

    public string Qualify(string name) => Quote(SchemaName) + "." + Quote(name);

    public string PartitionName(DateOnly day) => EventsTableName + "_p" + day.ToString("yyyyMMdd", CultureInfo.InvariantCulture);

    /// <summary>The tables and indexes, without partitions. Every statement is idempotent.</summary>
    public string CreateTablesScript()
    {
        var sql = new StringBuilder();
        sql.Append(CultureInfo.InvariantCulture, $"""
            -- Checked first so that an existing schema needs no CREATE privilege on the database.
            DO $$
            BEGIN
                IF to_regnamespace({Literal(Quote(SchemaName))}) IS NULL THEN
                    CREATE SCHEMA {Quote(SchemaName)};
                END IF;
            END
            $$;

            -- One row per stored event. Partitioned by the server's receive time, one partition per UTC day:
            -- queries on recent data touch few partitions, and old data is dropped a partition at a time.
            CREATE TABLE IF NOT EXISTS {Events} (
                id               uuid        NOT NULL, -- server-assigned UUIDv7, stable across batch retries
                event_id         text,                 -- client-assigned, identifies client retries
                client_id        text        NOT NULL,
                site_id          text        NOT NULL, -- the authorized domain
                session_id       text,
                event_type       text        NOT NULL,
                event_time       timestamptz NOT NULL, -- client time, corrected for clock skew
                client_timestamp text,                 -- the timestamp exactly as sent
                received_at      timestamptz NOT NULL,
                page_data        jsonb,
                event_data       jsonb,
                custom_data      jsonb,                -- top-level fields the wire contract does not name
                consent          jsonb,
                ip               text,                 -- as the client's privacy rules allow: address, keyed hash or null
                user_agent       text,
                CONSTRAINT {Quote(EventsTableName + "_pkey")} PRIMARY KEY (received_at, id)
            ) PARTITION BY RANGE (received_at);

            CREATE INDEX IF NOT EXISTS {Quote(EventsTableName + "_client_id_received_at_idx")}
                ON {Events} (client_id, received_at);

            -- What HIPAA clients' accepted requests did, without any values.
            CREATE TABLE IF NOT EXISTS {Audit} (
                id          uuid        NOT NULL PRIMARY KEY,
                received_at timestamptz NOT NULL,
                client_id   text        NOT NULL,
                site_id     text        NOT NULL,
                request_id  text,
                event_count integer     NOT NULL,
                event_types jsonb       NOT NULL, -- accepted events per event type
                ip_hash     text,
                redactions  text[]      NOT NULL  -- rule:location, such as email:event_data.message
            );

            CREATE INDEX IF NOT EXISTS {Quote(AuditTableName + "_client_id_received_at_idx")}
                ON {Audit} (client_id, received_at);

            """);
        return sql.ToString();
    }

    /// <summary>
    /// One day's partition and its unique key on <c>(event_id, client_id)</c>. PostgreSQL only accepts unique
    /// indexes on the partitioned table that include <c>received_at</c>, which a retry changes; a unique index
    /// per daily partition makes the key <c>(client_id, event_id, UTC day of received_at)</c>. <c>event_id</c>
    /// comes first: eventIds are random (UUIDs from the tracking script) and client ids few, so a comparison in the
    /// index is decided by one column instead of two; of the three indexes this one costs the most per row
    /// (see <c>benchmarks/README.md</c>). It also serves a lookup by eventId alone.
    /// </summary>
    public string CreatePartitionScript(DateOnly day)
    {
        var partition = PartitionName(day);
        var from = day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
        var to = day.AddDays(1).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
        return $"""
            CREATE TABLE IF NOT EXISTS {Qualify(partition)} PARTITION OF {Events}
                FOR VALUES FROM ('{from} 00:00:00+00') TO ('{to} 00:00:00+00');
            CREATE UNIQUE INDEX IF NOT EXISTS {Quote(partition + "_event_id_key")}
                ON {Qualify(partition)} (event_id, client_id) WHERE event_id IS NOT NULL;

            """;
    }

    /// <summary>Lists the events table's partitions by name.</summary>
    /// <summary>The day of a partition the collector named, or <see langword="null"/> for any other table.</summary>
    public DateOnly? DayOfPartition(string partitionName)
    {
        var prefix = EventsTableName + "_p";
        return partitionName.Length == prefix.Length + 8
            && partitionName.StartsWith(prefix, StringComparison.Ordinal)
            && DateOnly.TryParseExact(partitionName.AsSpan(prefix.Length), "yyyyMMdd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var day)
                ? day
                : null;
    }

    public string DropPartitionScript(DateOnly day) => $"DROP TABLE IF EXISTS {Qualify(PartitionName(day))};\n";

    public string ListPartitionsQuery() =>
        $"SELECT c.relname FROM pg_catalog.pg_inherits i JOIN pg_catalog.pg_class c ON c.oid = i.inhrelid " +
        $"WHERE i.inhparent = to_regclass({Literal(Events)})";

    public static string CopyEventsCommand(string table) => $"COPY {table} ({EventColumns}) FROM STDIN (FORMAT BINARY)";

    private static string Literal(string value) => "'" + value.Replace("'", "''", StringComparison.Ordinal) + "'";
}
