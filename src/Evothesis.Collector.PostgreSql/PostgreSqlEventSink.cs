using Evothesis.Collector.Batching;
using Evothesis.Collector.Batching.Internal;
using Evothesis.Collector.Events;
using Evothesis.Collector.Sinks.PostgreSql.Internal;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Evothesis.Collector.Sinks.PostgreSql;

/// <summary>
/// Writes each batch to the PostgreSQL events table with binary COPY, one transaction per batch, storing each event
/// once however often it is sent or written (see <see cref="PostgreSqlEventWriter"/>). Several batches may be written
/// at once (<see cref="PostgreSqlSinkOptions.MaxInFlight"/>), each on its own connection.
/// </summary>
/// <remarks>
/// A failure of the connection or the server stores nothing of the batch and is thrown as it is: the spool consumer
/// retries it. A value PostgreSQL refuses stores nothing of the batch either, and is thrown as
/// <see cref="EventsRejectedException"/> (SQLSTATE and a fixed reason, never the value): the consumer then delivers
/// the batch's requests one by one and parks the one that holds it.
/// </remarks>
internal sealed class PostgreSqlEventSink : IEventSink, IDeliveryPolicySource
{
    private readonly PostgreSqlConnectionSource _connection;
    private readonly PostgreSqlSchemaManager _schema;
    private readonly PostgreSqlEventWriter _writer;
    private readonly PostgreSqlMetrics _metrics;
    private readonly PostgreSqlSinkOptions _options;
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
        _writer = new PostgreSqlEventWriter(schema.Schema);
        _metrics = metrics;
        _options = options.Value;
        _time = timeProvider;
        _logger = logger;
        Name = "postgresql:" + schema.Schema.EventsTableName;
    }

    public string Name { get; }

    /// <summary>
    /// Batches of what is waiting, up to <see cref="PostgreSqlSinkOptions.MaxBatchEvents"/>, after at most
    /// <see cref="PostgreSqlSinkOptions.MaxBatchAge"/> (none in <see cref="AckMode.Committed"/> mode), and
    /// <see cref="PostgreSqlSinkOptions.MaxInFlight"/> of them at once.
    /// </summary>
    public DeliveryPolicy GetDeliveryPolicy(BatchingOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return new DeliveryPolicy(
            _options.MaxBatchEvents,
            DeliveryPolicy.Default(options).MaxBytes,
            options.AckMode == AckMode.Committed ? TimeSpan.Zero : _options.MaxBatchAge,
            _options.EffectiveMaxInFlight);
    }

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
        catch (Exception ex) when (PostgreSqlRefusal.IsRefusal(ex, out var sqlState))
        {
            // The data, not the database: the pool and what is known of the schema are fine.
            _metrics.Failed(sqlState, refused: true);
            PostgreSqlLog.BatchRefused(_logger, batch.Count, sqlState, PostgreSqlRefusal.Reason(sqlState));
            throw PostgreSqlRefusal.ToRejected(ex, batch.Count);
        }
        catch (Exception ex)
        {
            var errorType = ex is PostgresException pg ? pg.SqlState : ex.GetType().Name;
            _metrics.Failed(errorType, refused: false);
            PostgreSqlLog.WriteFailed(_logger, batch.Count, errorType);
            ResetConnections();
            throw;
        }

        _metrics.Written(outcome, _time.GetElapsedTime(started));
        if (outcome.Path == WritePath.Careful)
        {
            PostgreSqlLog.CarefulWrite(_logger, batch.Count, outcome.Inserted, outcome.Duplicates);
        }

        if (outcome.Duplicates > 0)
        {
            PostgreSqlLog.DuplicatesSkipped(_logger, outcome.Duplicates, batch.Count);
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
