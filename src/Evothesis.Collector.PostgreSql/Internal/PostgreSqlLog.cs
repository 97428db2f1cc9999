using Microsoft.Extensions.Logging;

namespace Evothesis.Collector.Sinks.PostgreSql.Internal;

/// <summary>Log messages of the PostgreSQL sink, event ids 1500-1599. Never payload values.</summary>
internal static partial class PostgreSqlLog
{
    [LoggerMessage(1500, LogLevel.Information, "PostgreSQL schema {Schema} is ready with tables {EventsTable} and {AuditTable}")]
    public static partial void SchemaReady(ILogger logger, string schema, string eventsTable, string auditTable);

    [LoggerMessage(1501, LogLevel.Information, "Created PostgreSQL partition {Partition}")]
    public static partial void PartitionCreated(ILogger logger, string partition);

    [LoggerMessage(1502, LogLevel.Warning, "PostgreSQL schema maintenance failed; retrying in {Delay}")]
    public static partial void MaintenanceFailed(ILogger logger, Exception exception, TimeSpan delay);

    [LoggerMessage(1503, LogLevel.Information, "Skipped {Count} of {Total} events already stored in PostgreSQL (retries)")]
    public static partial void DuplicatesSkipped(ILogger logger, int count, int total);

    // The SQLSTATE and a fixed reason say what kind of value was refused; the server's message is not logged, as it
    // can quote the value. The spool consumer parks the request that holds it (and logs that).
    [LoggerMessage(1504, LogLevel.Warning, "PostgreSQL refused a batch of {Count} events for good (SQLSTATE {SqlState}: {Reason}); nothing of it was stored")]
    public static partial void BatchRefused(ILogger logger, int count, string sqlState, string reason);

    [LoggerMessage(1505, LogLevel.Warning, "Writing {Count} events to PostgreSQL failed ({ErrorType}); nothing of them was stored, idle connections are discarded")]
    public static partial void WriteFailed(ILogger logger, int count, string errorType);

    [LoggerMessage(1506, LogLevel.Debug, "Batch of {Count} events written to PostgreSQL on the careful path: {Inserted} inserted, {Duplicates} duplicates")]
    public static partial void CarefulWrite(ILogger logger, int count, int inserted, int duplicates);

    [LoggerMessage(1507, LogLevel.Information, "Dropped PostgreSQL partition {Partition}: older than the {RetentionDays} days kept")]
    public static partial void PartitionDropped(ILogger logger, string partition, int retentionDays);
}
