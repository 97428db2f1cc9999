using Evothesis.Collector.Events;
using Evothesis.Collector.Sinks.PostgreSql.Internal;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Evothesis.Collector.Sinks.PostgreSql;

/// <summary>
/// Writes each batch to the PostgreSQL events table with binary COPY, one transaction per batch (per part of a large
/// batch, see <see cref="PostgreSqlSinkOptions.WriteConnections"/>), storing each event once however often it is
/// sent or written (see <see cref="PostgreSqlEventWriter"/>).
/// </summary>
/// <remarks>
/// A failure of the connection or the server stores nothing of the failing part and is thrown to the batcher; an
/// event with a value PostgreSQL refuses is dropped (logged without its values, counted as <c>invalid_value</c> in
/// <c>evothesis.collector.events.dropped</c>) and the rest of its batch stored.
/// </remarks>
internal sealed class PostgreSqlEventSink : IEventSink
{
    private readonly PostgreSqlConnectionSource _connection;
    private readonly PostgreSqlSchemaManager _schema;
    private readonly PostgreSqlEventWriter _writer;
    private readonly PostgreSqlMetrics _metrics;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;

    public PostgreSqlEventSink(
        PostgreSqlConnectionSource connection,
        PostgreSqlSchemaManager schema,
        PostgreSqlMetrics metrics,
        TimeProvider timeProvider,
        ILogger<PostgreSqlEventSink> logger,
        IOptions<PostgreSqlSinkOptions> options)
    {
        _connection = connection;
        _schema = schema;
        _writer = new PostgreSqlEventWriter(schema.Schema, options.Value.WriteConnections, options.Value.MinEventsPerConnection);
        _metrics = metrics;
        _time = timeProvider;
        _logger = logger;
        Name = "postgresql:" + schema.Schema.EventsTableName;
    }

    public string Name { get; }

    public async ValueTask WriteAsync(EventBatch batch, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(batch);
        if (batch.Count == 0)
        {
            return;
        }

        var started = _time.GetTimestamp();
        WriteOutcome outcome;
        try
        {
            try
            {
                outcome = await WriteOnceAsync(batch, cancellationToken).ConfigureAwait(false);
            }
            catch (NpgsqlException ex) when (ex.IsTransient && !cancellationToken.IsCancellationRequested)
            {
                // Most often a pooled connection to a server process that is gone (restart, failover). Writes are
                // idempotent, so one more attempt on fresh connections is safe even if the first one committed.
                ResetConnections();
                outcome = await WriteOnceAsync(batch, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (Exception ex)
        {
            var errorType = ex is PostgresException pg ? pg.SqlState : ex.GetType().Name;
            _metrics.Failed(errorType);
            PostgreSqlLog.WriteFailed(_logger, batch.Count, errorType, _writer.PartsFor(batch.Count));
            ResetConnections();
            throw;
        }

        _metrics.Written(outcome, _time.GetElapsedTime(started));
        if (outcome.Path == WritePath.Careful)
        {
            PostgreSqlLog.CarefulWrite(_logger, batch.Count, outcome.Inserted, outcome.Duplicates, outcome.Refused.Count);
        }

        if (outcome.Duplicates > 0)
        {
            PostgreSqlLog.DuplicatesSkipped(_logger, outcome.Duplicates, batch.Count);
        }

        foreach (var refused in outcome.Refused)
        {
            PostgreSqlLog.EventDropped(_logger, refused.Event.Id, refused.Event.ClientId, refused.SqlState);
        }
    }

    private async Task<WriteOutcome> WriteOnceAsync(EventBatch batch, CancellationToken cancellationToken)
    {
        await _schema.EnsureTablesAsync(cancellationToken).ConfigureAwait(false);
        await _schema.EnsurePartitionsAsync(DaysOf(batch.Events), cancellationToken).ConfigureAwait(false);
        return await _writer.WriteAsync(_connection.DataSource, batch.Events, cancellationToken).ConfigureAwait(false);
    }

    // After a restart or failover the idle pooled connections are dead, and what is known about the schema may be
    // stale too (a partition dropped, a database restored): start over on both.
    private void ResetConnections()
    {
        _connection.DataSource.Clear();
        _schema.Forget();
    }

    private static List<DateOnly> DaysOf(IReadOnlyList<CollectedEvent> events)
    {
        // Almost always one day; two around midnight.
        var days = new List<DateOnly>(1);
        foreach (var e in events)
        {
            var day = PostgreSqlSchema.DayOf(e.ReceivedAt);
            if (!days.Contains(day))
            {
                days.Add(day);
            }
        }

        return days;
    }
}
