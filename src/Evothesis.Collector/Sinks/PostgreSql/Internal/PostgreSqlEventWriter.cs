using System.Text;
using Evothesis.Collector.Events;
using Npgsql;
using NpgsqlTypes;

namespace Evothesis.Collector.Sinks.PostgreSql.Internal;

/// <summary>
/// Writes events with binary COPY, one transaction per batch (or per part of a large batch), storing each event once.
/// </summary>
/// <remarks>
/// <para>
/// Parts: PostgreSQL runs a COPY on one server process, and for these rows (jsonb parsing, three B-tree indexes)
/// that process, not the network or the client, is what limits a COPY. With more than one write connection
/// configured (the default is one), a large batch is therefore split into up to
/// <see cref="PostgreSqlSinkOptions.WriteConnections"/> contiguous parts of at least
/// <see cref="PostgreSqlSinkOptions.MinEventsPerConnection"/> events, written at the same time over as many
/// connections, each part as described below in its own transaction. The keys make this safe: when one part fails
/// and another commits, the batch fails, and writing it again skips what the committed part stored.
/// </para>
/// <para>
/// Fast path: one COPY straight into the events table. Its keys reject what is already stored: the primary key
/// <c>(received_at, id)</c> a rewritten batch (ids are fixed when events are created), the unique
/// <c>(event_id, client_id)</c> index of each daily partition a client's retry.
/// </para>
/// <para>
/// Careful path, taken only when the fast path hit a duplicate or a value PostgreSQL refuses: the fast path's
/// transaction is rolled back, the batch is copied into a temporary table and moved with
/// <c>INSERT ... ON CONFLICT DO NOTHING</c>, each attempt under a savepoint. An attempt refused for a value is
/// rolled back to its savepoint and split in halves until the refused events stand alone; those are reported
/// as dropped, all others stored. It all commits as one transaction, so a failure of any other kind (the
/// connection, the server) leaves nothing of the part written and is thrown to the caller.
/// </para>
/// </remarks>
internal sealed class PostgreSqlEventWriter
{
    private readonly PostgreSqlSchema _schema;
    private readonly string _copyIntoEvents;
    private readonly string _createStaging;
    private readonly string _copyIntoStaging;
    private readonly string _moveStaging;
    private readonly string _clearStaging;

    private readonly string _findStoredTheDayBefore;
    private readonly int _writeConnections;
    private readonly int _minEventsPerConnection;

    public PostgreSqlEventWriter(PostgreSqlSchema schema, int writeConnections = 1, int minEventsPerConnection = 1000)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(writeConnections, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(minEventsPerConnection, 1);
        _schema = schema;
        _writeConnections = writeConnections;
        _minEventsPerConnection = minEventsPerConnection;
        var staging = "pg_temp." + PostgreSqlSchema.Quote(schema.EventsTableName + "_staging");
        _copyIntoEvents = PostgreSqlSchema.CopyEventsCommand(schema.Events);
        _findStoredTheDayBefore =
            $"SELECT event_id, client_id FROM {schema.Events} WHERE received_at >= $1 AND received_at < $2 AND event_id = ANY($3)";
        _createStaging = $"CREATE TEMP TABLE IF NOT EXISTS {PostgreSqlSchema.Quote(schema.EventsTableName + "_staging")} " +
            $"(LIKE {schema.Events}) ON COMMIT DELETE ROWS";
        _copyIntoStaging = PostgreSqlSchema.CopyEventsCommand(staging);
        _moveStaging = $"INSERT INTO {schema.Events} ({PostgreSqlSchema.EventColumns}) " +
            $"SELECT {PostgreSqlSchema.EventColumns} FROM {staging} ON CONFLICT DO NOTHING";
        _clearStaging = $"TRUNCATE {staging}";
    }

    /// <summary>
    /// How long after midnight UTC a client's retry is still looked for in the day before (the tracking script retries
    /// within a few minutes).
    /// </summary>
    public static readonly TimeSpan RetryAcrossMidnightWindow = TimeSpan.FromMinutes(15);

    public PostgreSqlSchema Schema => _schema;

    /// <summary>How many parts (connections, transactions) a batch of <paramref name="count"/> events is written in.</summary>
    public int PartsFor(int count) => Math.Clamp(count / _minEventsPerConnection, 1, _writeConnections);

    /// <summary>Writes the events; see the class remarks.</summary>
    /// <exception cref="NpgsqlException">
    /// The write failed. Nothing of the failed part was stored; other parts of the batch may have been.
    /// </exception>
    public async Task<WriteOutcome> WriteAsync(NpgsqlDataSource dataSource, IReadOnlyList<CollectedEvent> events, CancellationToken cancellationToken)
    {
        var (rest, storedTheDayBefore) = await SkipStoredTheDayBeforeAsync(dataSource, events, cancellationToken).ConfigureAwait(false);
        if (storedTheDayBefore == 0)
        {
            return await WriteAllAsync(dataSource, events, cancellationToken).ConfigureAwait(false);
        }

        var outcome = rest.Count == 0
            ? new WriteOutcome(WritePath.Fast, 0, 0, [])
            : await WriteAllAsync(dataSource, rest, cancellationToken).ConfigureAwait(false);
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

    private async Task<WriteOutcome> WriteAllAsync(NpgsqlDataSource dataSource, IReadOnlyList<CollectedEvent> events, CancellationToken cancellationToken)
    {
        var parts = PartsFor(events.Count);
        if (parts == 1)
        {
            return await WritePartAsync(dataSource, events, 0, events.Count, cancellationToken).ConfigureAwait(false);
        }

        // Contiguous ranges, the first ones one event longer when the batch does not divide evenly. Every part runs
        // to its end even when another fails: what commits need not be written again.
        var writes = new Task<WriteOutcome>[parts];
        var start = 0;
        for (var i = 0; i < parts; i++)
        {
            var (partStart, partCount) = (start, (events.Count / parts) + (i < events.Count % parts ? 1 : 0));

            // On the thread pool, so that the parts' rows are encoded at the same time too.
            writes[i] = Task.Run(() => WritePartAsync(dataSource, events, partStart, partCount, cancellationToken), CancellationToken.None);
            start += partCount;
        }

        await Task.WhenAll(writes).ConfigureAwait(false);
        return WriteOutcome.Combine(writes.Select(w => w.Result));
    }

    /// <summary>Writes through the temporary table only: the careful path, on its own for comparisons.</summary>
    public Task<WriteOutcome> WriteCarefullyAsync(NpgsqlConnection connection, IReadOnlyList<CollectedEvent> events, CancellationToken cancellationToken) =>
        WriteCarefullyAsync(connection, events, 0, events.Count, cancellationToken);

    /// <summary>Writes <c>events[start..start+count]</c> on a connection of its own, in one transaction.</summary>
    private async Task<WriteOutcome> WritePartAsync(
        NpgsqlDataSource dataSource,
        IReadOnlyList<CollectedEvent> events,
        int start,
        int count,
        CancellationToken cancellationToken)
    {
        var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
            await using (transaction.ConfigureAwait(false))
            {
                try
                {
                    await CopyAsync(connection, _copyIntoEvents, events, start, count, cancellationToken).ConfigureAwait(false);
                    await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
                    return new WriteOutcome(WritePath.Fast, count, 0, []);
                }
                catch (Exception ex) when (IsDuplicate(ex) || IsRefusedValue(ex, out _) || IsDeadlock(ex))
                {
                    await transaction.RollbackAsync(cancellationToken).ConfigureAwait(false);
                }
            }

            return await WriteCarefullyAsync(connection, events, start, count, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task<WriteOutcome> WriteCarefullyAsync(
        NpgsqlConnection connection,
        IReadOnlyList<CollectedEvent> events,
        int start,
        int count,
        CancellationToken cancellationToken)
    {
        var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        await using (transaction.ConfigureAwait(false))
        {
            await ExecuteAsync(connection, _createStaging, cancellationToken).ConfigureAwait(false);
            var state = new CarefulState();
            await StoreRangeAsync(connection, transaction, events, start, count, state, cancellationToken).ConfigureAwait(false);
            await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
            return new WriteOutcome(WritePath.Careful, state.Inserted, state.Duplicates, state.Refused);
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
    /// Two parts of one batch each waited for the other: both held a key (the same client and <c>eventId</c> twice
    /// in the batch, in crossing order) the other was inserting. PostgreSQL cancels one of them; the other commits,
    /// and the careful path then skips what it stored.
    /// </summary>
    public static bool IsDeadlock(Exception exception) =>
        exception is PostgresException { SqlState: PostgresErrorCodes.DeadlockDetected };

    /// <summary>
    /// The failure is about one row's values, not about the connection or the server: class 22 (data exception,
    /// such as a NUL character, <c>\u0000</c> in jsonb or a number out of range), 54000 (a value too large for an
    /// index), or a string .NET cannot encode.
    /// </summary>
    public static bool IsRefusedValue(Exception exception, out string code)
    {
        switch (exception)
        {
            case PostgresException pg when pg.SqlState.StartsWith("22", StringComparison.Ordinal)
                || pg.SqlState == PostgresErrorCodes.ProgramLimitExceeded:
                code = pg.SqlState;
                return true;
            case RefusedValueException:
                code = RefusedValueException.Code;
                return true;
            default:
                code = "";
                return false;
        }
    }

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

    private async Task StoreRangeAsync(
        NpgsqlConnection connection,
        NpgsqlTransaction transaction,
        IReadOnlyList<CollectedEvent> events,
        int start,
        int count,
        CarefulState state,
        CancellationToken cancellationToken)
    {
        const string Savepoint = "evothesis_range";
        await transaction.SaveAsync(Savepoint, cancellationToken).ConfigureAwait(false);
        try
        {
            await CopyAsync(connection, _copyIntoStaging, events, start, count, cancellationToken).ConfigureAwait(false);
            int inserted;
            var move = new NpgsqlCommand(_moveStaging, connection, transaction);
            await using (move.ConfigureAwait(false))
            {
                inserted = await move.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }

            await ExecuteAsync(connection, _clearStaging, cancellationToken).ConfigureAwait(false);
            await transaction.ReleaseAsync(Savepoint, cancellationToken).ConfigureAwait(false);
            state.Inserted += inserted;
            state.Duplicates += count - inserted;
        }
        catch (Exception ex) when (IsRefusedValue(ex, out var code))
        {
            await transaction.RollbackAsync(Savepoint, cancellationToken).ConfigureAwait(false);
            await transaction.ReleaseAsync(Savepoint, cancellationToken).ConfigureAwait(false);
            if (count == 1)
            {
                state.Refused.Add(new RefusedEvent(events[start], code));
                return;
            }

            var half = count / 2;
            await StoreRangeAsync(connection, transaction, events, start, half, state, cancellationToken).ConfigureAwait(false);
            await StoreRangeAsync(connection, transaction, events, start + half, count - half, state, cancellationToken).ConfigureAwait(false);
        }
    }

    private sealed class CarefulState
    {
        public int Inserted { get; set; }

        public int Duplicates { get; set; }

        public List<RefusedEvent> Refused { get; } = [];
    }
}

/// <summary>Which way a batch was written.</summary>
internal enum WritePath
{
    /// <summary>One COPY straight into the events table.</summary>
    Fast,

    /// <summary>Through the temporary table, skipping duplicates and isolating refused values.</summary>
    Careful,
}

/// <summary>What a write stored, skipped as already stored, and dropped.</summary>
internal sealed record WriteOutcome(WritePath Path, int Inserted, int Duplicates, IReadOnlyList<RefusedEvent> Refused)
{
    /// <summary>The outcome of a batch written in parts: careful if any part was.</summary>
    public static WriteOutcome Combine(IEnumerable<WriteOutcome> parts)
    {
        var path = WritePath.Fast;
        int inserted = 0, duplicates = 0;
        var refused = new List<RefusedEvent>();
        foreach (var part in parts)
        {
            path = part.Path == WritePath.Careful ? WritePath.Careful : path;
            inserted += part.Inserted;
            duplicates += part.Duplicates;
            refused.AddRange(part.Refused);
        }

        return new WriteOutcome(path, inserted, duplicates, refused);
    }
}

/// <summary>An event PostgreSQL refused, with the SQLSTATE that says why.</summary>
internal readonly record struct RefusedEvent(CollectedEvent Event, string SqlState);

/// <summary>A value could not even be sent: .NET could not encode one of the event's strings.</summary>
internal sealed class RefusedValueException(int index, Exception innerException)
    : Exception("An event holds a string that cannot be encoded as UTF-8.", innerException)
{
    /// <summary>The SQLSTATE PostgreSQL uses for the same problem (character not in repertoire).</summary>
    public const string Code = "22021";

    public int Index { get; } = index;
}
