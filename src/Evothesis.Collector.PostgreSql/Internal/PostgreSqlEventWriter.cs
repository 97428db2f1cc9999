using System.Text;
using Evothesis.Collector.Events;
using Npgsql;
using NpgsqlTypes;

namespace Evothesis.Collector.Sinks.PostgreSql.Internal;

/// <summary>
/// Writes a batch of events with binary COPY in one transaction, storing each event once. Safe to call for several
/// batches at once: each write takes its own pooled connection.
/// </summary>
/// <remarks>
/// <para>
/// Fast path: one COPY straight into the events table. Its keys reject what is already stored: the primary key
/// <c>(received_at, id)</c> a rewritten batch (ids are fixed when events are created), the unique
/// <c>(event_id, client_id)</c> index of each daily partition a client's retry.
/// </para>
/// <para>
/// Careful path, taken only when the fast path hit a duplicate, or a deadlock with another batch written at the same
/// time that holds some of the same keys in another order: the fast path's transaction is rolled back, the batch is
/// copied into a temporary table and moved with <c>INSERT ... ON CONFLICT DO NOTHING</c>, which waits for the other
/// batch's transaction and skips what it stored.
/// </para>
/// <para>
/// Any failure, a value PostgreSQL refuses (see <see cref="PostgreSqlRefusal"/>) as well as an outage, rolls the
/// whole batch back and is thrown as it is.
/// </para>
/// </remarks>
internal sealed class PostgreSqlEventWriter
{
    private readonly PostgreSqlSchema _schema;
    private readonly string _copyIntoEvents;
    private readonly string _createStaging;
    private readonly string _copyIntoStaging;
    private readonly string _moveStaging;

    private readonly string _findStoredTheDayBefore;

    public PostgreSqlEventWriter(PostgreSqlSchema schema)
    {
        _schema = schema;
        var staging = "pg_temp." + PostgreSqlSchema.Quote(schema.EventsTableName + "_staging");
        _copyIntoEvents = PostgreSqlSchema.CopyEventsCommand(schema.Events);
        _findStoredTheDayBefore =
            $"SELECT event_id, client_id FROM {schema.Events} WHERE received_at >= $1 AND received_at < $2 AND event_id = ANY($3)";
        _createStaging = $"CREATE TEMP TABLE IF NOT EXISTS {PostgreSqlSchema.Quote(schema.EventsTableName + "_staging")} " +
            $"(LIKE {schema.Events}) ON COMMIT DELETE ROWS";
        _copyIntoStaging = PostgreSqlSchema.CopyEventsCommand(staging);
        _moveStaging = $"INSERT INTO {schema.Events} ({PostgreSqlSchema.EventColumns}) " +
            $"SELECT {PostgreSqlSchema.EventColumns} FROM {staging} ON CONFLICT DO NOTHING";
    }

    /// <summary>
    /// How long after midnight UTC a client's retry is still looked for in the day before (the tracking script retries
    /// within a few minutes).
    /// </summary>
    public static readonly TimeSpan RetryAcrossMidnightWindow = TimeSpan.FromMinutes(15);

    public PostgreSqlSchema Schema => _schema;

    /// <summary>Writes the events; see the class remarks.</summary>
    /// <exception cref="NpgsqlException">
    /// The write failed, nothing was stored; <see cref="PostgreSqlRefusal.IsRefusal"/> tells a refused value from an outage.
    /// </exception>
    /// <exception cref="RefusedValueException">A string could not be encoded; nothing was stored.</exception>
    public async Task<WriteOutcome> WriteAsync(NpgsqlDataSource dataSource, IReadOnlyList<CollectedEvent> events, CancellationToken cancellationToken)
    {
        var (rest, storedTheDayBefore) = await SkipStoredTheDayBeforeAsync(dataSource, events, cancellationToken).ConfigureAwait(false);
        if (storedTheDayBefore == 0)
        {
            return await WriteBatchAsync(dataSource, events, cancellationToken).ConfigureAwait(false);
        }

        var outcome = rest.Count == 0
            ? new WriteOutcome(WritePath.Fast, 0, 0)
            : await WriteBatchAsync(dataSource, rest, cancellationToken).ConfigureAwait(false);
        return outcome with { Duplicates = outcome.Duplicates + storedTheDayBefore };
    }

    /// <summary>
    /// The unique key of a client's <c>eventId</c> is per day (per partition), so a retry received just after midnight
    /// UTC would not meet its first copy, received just before. For events received in the first
    /// <see cref="RetryAcrossMidnightWindow"/> of a day, the day before is looked up (one indexed query, only then).
    /// </summary>
    private async Task<(IReadOnlyList<CollectedEvent> ToWrite, int Skipped)> SkipStoredTheDayBeforeAsync(
        NpgsqlDataSource dataSource,
        IReadOnlyList<CollectedEvent> events,
        CancellationToken cancellationToken)
    {
        Dictionary<DateOnly, List<string>>? byDay = null;
        foreach (var e in events)
        {
            if (e.EventId is { } eventId && JustAfterMidnight(e))
            {
                var day = PostgreSqlSchema.DayOf(e.ReceivedAt);
                byDay ??= [];
                if (!byDay.TryGetValue(day, out var ids))
                {
                    byDay[day] = ids = [];
                }

                ids.Add(eventId);
            }
        }

        if (byDay is null)
        {
            return (events, 0);
        }

        var stored = new HashSet<(string EventId, string ClientId)>();
        var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            foreach (var (day, ids) in byDay)
            {
                var command = new NpgsqlCommand(_findStoredTheDayBefore, connection);
                await using (command.ConfigureAwait(false))
                {
                    var midnight = new DateTimeOffset(day.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero);
                    command.Parameters.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = midnight.AddDays(-1) });
                    command.Parameters.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = midnight });
                    command.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = [.. ids] });
                    var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
                    await using (reader.ConfigureAwait(false))
                    {
                        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                        {
                            stored.Add((reader.GetString(0), reader.GetString(1)));
                        }
                    }
                }
            }
        }

        if (stored.Count == 0)
        {
            return (events, 0);
        }

        var rest = new List<CollectedEvent>(events.Count);
        foreach (var e in events)
        {
            if (e.EventId is null || !JustAfterMidnight(e) || !stored.Contains((e.EventId, e.ClientId)))
            {
                rest.Add(e);
            }
        }

        return (rest, events.Count - rest.Count);

        static bool JustAfterMidnight(CollectedEvent e) => e.ReceivedAt.UtcDateTime.TimeOfDay < RetryAcrossMidnightWindow;
    }

    /// <summary>Writes the events on a connection of its own, in one transaction.</summary>
    private async Task<WriteOutcome> WriteBatchAsync(NpgsqlDataSource dataSource, IReadOnlyList<CollectedEvent> events, CancellationToken cancellationToken)
    {
        var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
            await using (transaction.ConfigureAwait(false))
            {
                try
                {
                    await CopyAsync(connection, _copyIntoEvents, events, 0, events.Count, cancellationToken).ConfigureAwait(false);
                    await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
                    return new WriteOutcome(WritePath.Fast, events.Count, 0);
                }
                catch (Exception ex) when (IsDuplicate(ex) || IsDeadlock(ex))
                {
                    await transaction.RollbackAsync(cancellationToken).ConfigureAwait(false);
                }
            }

            return await WriteCarefullyAsync(connection, events, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Writes through the temporary table, skipping what is already stored, in one transaction.</summary>
    public async Task<WriteOutcome> WriteCarefullyAsync(NpgsqlConnection connection, IReadOnlyList<CollectedEvent> events, CancellationToken cancellationToken)
    {
        var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        await using (transaction.ConfigureAwait(false))
        {
            await ExecuteAsync(connection, _createStaging, cancellationToken).ConfigureAwait(false);
            await CopyAsync(connection, _copyIntoStaging, events, 0, events.Count, cancellationToken).ConfigureAwait(false);
            int inserted;
            var move = new NpgsqlCommand(_moveStaging, connection, transaction);
            await using (move.ConfigureAwait(false))
            {
                inserted = await move.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }

            await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
            return new WriteOutcome(WritePath.Careful, inserted, events.Count - inserted);
        }
    }

    /// <summary>
    /// Binary COPY of <c>events[start..start+count]</c> into <paramref name="copyCommand"/>'s table, checking the row count.
    /// </summary>
    public static async Task CopyAsync(
        NpgsqlConnection connection,
        string copyCommand,
        IReadOnlyList<CollectedEvent> events,
        int start,
        int count,
        CancellationToken cancellationToken)
    {
        var importer = await connection.BeginBinaryImportAsync(copyCommand, cancellationToken).ConfigureAwait(false);
        await using (importer.ConfigureAwait(false))
        {
            for (var i = start; i < start + count; i++)
            {
                try
                {
                    await WriteRowAsync(importer, events[i], cancellationToken).ConfigureAwait(false);
                }
                catch (EncoderFallbackException ex)
                {
                    // A string .NET cannot encode as UTF-8 (an unpaired surrogate) fails here, before the server sees
                    // it; disposing the importer cancels the COPY.
                    throw new RefusedValueException(i, ex);
                }
            }

            var written = await importer.CompleteAsync(cancellationToken).ConfigureAwait(false);
            if (written != (ulong)count)
            {
                throw new InvalidOperationException($"PostgreSQL reported {written} rows copied for {count} events.");
            }
        }
    }

    public static async Task WriteRowAsync(NpgsqlBinaryImporter importer, CollectedEvent e, CancellationToken cancellationToken)
    {
        await importer.StartRowAsync(cancellationToken).ConfigureAwait(false);
        await importer.WriteAsync(e.Id, NpgsqlDbType.Uuid, cancellationToken).ConfigureAwait(false);
        await WriteTextAsync(importer, e.EventId, cancellationToken).ConfigureAwait(false);
        await importer.WriteAsync(e.ClientId, NpgsqlDbType.Text, cancellationToken).ConfigureAwait(false);
        await importer.WriteAsync(e.SiteId, NpgsqlDbType.Text, cancellationToken).ConfigureAwait(false);
        await WriteTextAsync(importer, e.SessionId, cancellationToken).ConfigureAwait(false);
        await importer.WriteAsync(e.EventType, NpgsqlDbType.Text, cancellationToken).ConfigureAwait(false);
        await importer.WriteAsync(e.Timestamp.ToUniversalTime(), NpgsqlDbType.TimestampTz, cancellationToken).ConfigureAwait(false);
        await WriteTextAsync(importer, e.ClientTimestamp, cancellationToken).ConfigureAwait(false);
        await importer.WriteAsync(e.ReceivedAt.ToUniversalTime(), NpgsqlDbType.TimestampTz, cancellationToken).ConfigureAwait(false);
        await WriteJsonAsync(importer, e.PageData, cancellationToken).ConfigureAwait(false);
        await WriteJsonAsync(importer, e.EventData, cancellationToken).ConfigureAwait(false);
        await WriteJsonAsync(importer, e.CustomData, cancellationToken).ConfigureAwait(false);
        await WriteJsonAsync(importer, e.Consent, cancellationToken).ConfigureAwait(false);
        await WriteTextAsync(importer, e.Ip, cancellationToken).ConfigureAwait(false);
        await WriteTextAsync(importer, e.UserAgent, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>A unique key refused a row: the event is already stored.</summary>
    public static bool IsDuplicate(Exception exception) =>
        exception is PostgresException { SqlState: PostgresErrorCodes.UniqueViolation };

    /// <summary>
    /// Two batches written at the same time each waited for the other: both held a key (the same client and
    /// <c>eventId</c> in both, in crossing order) the other was inserting. PostgreSQL cancels one of them; the other
    /// commits, and the careful path then skips what it stored.
    /// </summary>
    public static bool IsDeadlock(Exception exception) =>
        exception is PostgresException { SqlState: PostgresErrorCodes.DeadlockDetected };

    private static Task WriteTextAsync(NpgsqlBinaryImporter importer, string? value, CancellationToken cancellationToken) =>
        value is null
            ? importer.WriteNullAsync(cancellationToken)
            : importer.WriteAsync(value, NpgsqlDbType.Text, cancellationToken);

    private static Task WriteJsonAsync(NpgsqlBinaryImporter importer, RawJson value, CancellationToken cancellationToken) =>
        value.IsNull
            ? importer.WriteNullAsync(cancellationToken)
            : importer.WriteAsync(value.Utf8, NpgsqlDbType.Jsonb, cancellationToken);

    private static async Task ExecuteAsync(NpgsqlConnection connection, string sql, CancellationToken cancellationToken)
    {
        var command = new NpgsqlCommand(sql, connection);
        await using (command.ConfigureAwait(false))
        {
            await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
    }
}

/// <summary>Which way a batch was written.</summary>
internal enum WritePath
{
    /// <summary>One COPY straight into the events table.</summary>
    Fast,

    /// <summary>Through the temporary table, skipping what is already stored.</summary>
    Careful,
}

/// <summary>What a write stored, and skipped as already stored.</summary>
internal sealed record WriteOutcome(WritePath Path, int Inserted, int Duplicates);

/// <summary>A value could not even be sent: .NET could not encode one of the event's strings.</summary>
internal sealed class RefusedValueException(int index, Exception innerException)
    : Exception("An event holds a string that cannot be encoded as UTF-8.", innerException)
{
    /// <summary>The SQLSTATE PostgreSQL uses for the same problem (character not in repertoire).</summary>
    public const string Code = "22021";

    public int Index { get; } = index;
}
