using System.Buffers;
using System.Globalization;
using System.Text;
using Evothesis.Collector.Audit;
using Evothesis.Collector.Audit.Internal;
using Evothesis.Collector.Batching.Internal;
using Evothesis.Collector.Diagnostics;
using Evothesis.Collector.Events;
using Evothesis.Collector.Sinks;
using Evothesis.Collector.Spool.Internal;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Evothesis.Collector.Batching;

/// <summary>
/// Between requests and sinks: a request's events (with its audit record) are appended to the write-ahead spool as one
/// record; every sink, and the audit trail, is a consumer of the spool with its own cursor, batches and retries.
/// </summary>
/// <remarks>
/// <list type="bullet">
/// <item><see cref="AckMode.Durable"/>: a request's task completes once its record is fsynced in the spool. The spool's
/// writer fsyncs as soon as it is free, so every request that arrived during one fsync shares the next (group commit,
/// no timer when idle).</item>
/// <item><see cref="AckMode.Committed"/>: once the first sink's consumer (PostgreSQL when it is registered) and the audit
/// trail's have committed the record; the other sinks deliver at their own pace.</item>
/// <item><see cref="AckMode.Enqueued"/>: no task; the record is in the spool's memory and a failed write is counted as a drop.
/// Audited requests are still acknowledged only once durable.</item>
/// </list>
/// A sink that fails only grows its own lag; visitors notice nothing until the spool is full (503 with <c>Retry-After</c>).
/// Shutdown stops taking requests, fsyncs what was accepted, lets the consumers deliver within the shutdown budget and
/// leaves the rest in the spool for the next start.
/// </remarks>
internal sealed class EventBatcher : IAsyncDisposable
{
    /// <summary>How long <see cref="DisposeAsync"/> lets the consumers deliver before it stops them.</summary>
    public static readonly TimeSpan DisposeDrainBudget = TimeSpan.FromSeconds(5);

    /// <summary>The spool consumer that writes audit records.</summary>
    /// <remarks>
    /// An audit record the audit trail refuses, even for good (<see cref="EventsRejectedException"/>), is never parked
    /// and never dropped: it is retried with backoff (capped at <see cref="BatchingOptions.RetryMaxDelay"/>), logged
    /// and reported by the health check, and the audited events behind it wait in the spool. Parking it would let its
    /// events reach the sinks while the audit store lacks their record; a compliance trail is held back rather than
    /// bypassed, and the spool's bound turns a lasting refusal into 503s instead of a silent gap.
    /// </remarks>
    public const string AuditConsumerName = "audit";

    // Scratch buffers above this size are dropped after use.
    private const int MaxScratchBytes = 1024 * 1024;

    // The encoding buffer of the request thread: the spool copies the record, so it is free again once Append returns.
    [ThreadStatic]
    private static ArrayBufferWriter<byte>? t_scratch;

    private readonly WriteAheadSpool _spool;
    private readonly SpoolMetrics _spoolMetrics;
    private readonly SpoolConsumer[] _consumers;
    private readonly IEventSink[] _sinks;
    private readonly IBatchCommitObserver[] _observers;
    private readonly AuditTrail? _audit;
    private readonly BatchingOptions _options;
    private readonly CollectorMetrics _metrics;
    private readonly ILogger _logger;

    // The spool's category, for the summary at shutdown: enabled on its own without the per-batch lines.
    private readonly ILogger _spoolLogger;

    // Cancels the consumers when the shutdown budget runs out.
    private readonly CancellationTokenSource _abort = new();

    // Serializes the one start of the consumers (hosted service, first request, or stop).
    private readonly Lock _startLock = new();

    // Committed-mode waiters, by the position every consumer must pass; guarded by _waitersLock.
    private readonly Lock _waitersLock = new();
    private readonly PriorityQueue<TaskCompletionSource, long> _waiters = new();

    // Set once by StopAsync; read by request threads.
    private int _stopping;

    private Task? _running;

    public EventBatcher(
        SinkSet sinks,
        IEnumerable<IBatchCommitObserver> observers,
        IOptions<CollectorOptions> options,
        CollectorPaths paths,
        TimeProvider timeProvider,
        CollectorMetrics metrics,
        ILoggerFactory loggerFactory,
        AuditTrail? audit = null)
    {
        var collector = options.Value;
        _sinks = sinks.Sinks;
        _observers = observers.ToArray();
        _audit = audit;
        _options = collector.Batching;
        _metrics = metrics;
        _logger = loggerFactory.CreateLogger<EventBatcher>();
        _spoolLogger = loggerFactory.CreateLogger("Evothesis.Collector.Spool");

        var names = ConsumerNames(_sinks);
        _spoolMetrics = new SpoolMetrics(metrics);
        _spool = WriteAheadSpool.Open(
            collector.Spool.ResolvePath(paths, collector.Storage),
            collector.Spool,
            [.. names, AuditConsumerName],
            timeProvider,
            _spoolMetrics,
            loggerFactory.CreateLogger<WriteAheadSpool>(),
            countEvents: SpoolEventCodec.EventCount);

        // The first sink is the one whose writes the seed's log line and the recent-events view follow: PostgreSQL when
        // it is registered (host sinks come first), otherwise the client bucket or the local folder.
        // In Committed mode the acknowledgement waits for the first sink and the audit trail: they deliver at once.
        var committed = _options.AckMode == AckMode.Committed;
        var consumers = new List<SpoolConsumer>(_sinks.Length + 1);
        for (var i = 0; i < _sinks.Length; i++)
        {
            var sink = _sinks[i];
            var policy = sink is IDeliveryPolicySource source ? source.GetDeliveryPolicy(_options) : DeliveryPolicy.Default(_options);
            if (i == 0 && committed)
            {
                policy = policy with { MaxAge = TimeSpan.Zero };
            }

            consumers.Add(new SpoolConsumer(
                names[i],
                sink.Name,
                _spool,
                (delivery, token) => sink.WriteAsync(delivery.Batch, token).AsTask(),
                i == 0 ? Written : null,
                policy,
                _options,
                timeProvider,
                metrics,
                _logger)
            {
                Parking = new ParkedRecords(_spool.Path, names[i], _spool.Files),
            });
        }

        // The audit trail's records are never parked: a refusal is retried like any failure (see AuditConsumerName).
        var auditPolicy = DeliveryPolicy.Default(_options);
        consumers.Add(new SpoolConsumer(
            AuditConsumerName,
            "audit",
            _spool,
            WriteAuditAsync,
            null,
            committed ? auditPolicy with { MaxAge = TimeSpan.Zero } : auditPolicy,
            _options,
            timeProvider,
            metrics,
            _logger)
        {
            AuditOnly = true,
        });
        _consumers = [.. consumers];
        foreach (var consumer in _consumers)
        {
            _spoolMetrics.NameSink(consumer.Name, consumer.Destination);
        }

        metrics.ObserveParked(() => _consumers
            .Where(c => c.Parking is not null)
            .Select(c => (c.Destination, c.Parking!.Count().Records)));
        var auditConsumer = _consumers[^1];
        foreach (var consumer in _consumers)
        {
            if (consumer == _consumers[0] || consumer == auditConsumer)
            {
                consumer.CommittedTo += (_, _) => ReleaseCommittedWaiters();
            }

            if (consumer != auditConsumer)
            {
                // No audited event is stored before its audit record: a delivery carrying audited requests waits for
                // the audit trail to have them. Others do not wait.
                consumer.Gate = (delivery, token) => delivery.Requests.Any(r => r.Audit is not null)
                    ? auditConsumer.WhenCommittedAsync(delivery.EndPosition, token)
                    : Task.CompletedTask;
            }
        }
    }

    /// <summary>Gets the sinks every record is delivered to.</summary>
    public IReadOnlyList<IEventSink> Sinks => _sinks;

    /// <summary>Gets the spool.</summary>
    public WriteAheadSpool Spool => _spool;

    /// <summary>Gets the spool's consumers: one per sink, then the audit trail.</summary>
    public IReadOnlyList<SpoolConsumer> Consumers => _consumers;

    /// <summary>Gets a value indicating whether the consumers are running.</summary>
    public bool IsRunning => _running is { IsCompleted: false };

    /// <summary>Adds the events of one request, and its audit record if it has one, to the spool.</summary>
    /// <param name="events">The events.</param>
    /// <param name="audit">The request's audit record, delivered to the audit trail from the same record.</param>
    /// <param name="written">
    /// Completes when the request may be acknowledged (see <see cref="AckMode"/>) and fails with
    /// <see cref="BatchWriteException"/> when the spool could not write it. <see langword="null"/> in
    /// <see cref="AckMode.Enqueued"/> mode for requests without an audit record.
    /// </param>
    public EnqueueStatus TryEnqueue(IReadOnlyList<CollectedEvent> events, AuditRecord? audit, out Task? written)
    {
        written = null;
        if (Volatile.Read(ref _stopping) != 0)
        {
            return EnqueueStatus.ShuttingDown;
        }

        // Encoded once into the thread's scratch buffer; the spool copies it into its pending writes.
        var payload = t_scratch ??= new ArrayBufferWriter<byte>(16 * 1024);
        payload.ResetWrittenCount();
        SpoolAppendResult result;
        try
        {
            SpoolEventCodec.Write(payload, events, audit);
            if (payload.WrittenCount > _spool.MaxRecordBytes)
            {
                return EnqueueStatus.TooLarge;
            }

            // In Enqueued mode nobody waits for the record's fsync (unless it carries an audit record).
            var mode = _options.AckMode;
            result = _spool.Append(payload.WrittenSpan, waited: mode != AckMode.Enqueued || audit is not null);
        }
        finally
        {
            if (payload.Capacity > MaxScratchBytes)
            {
                // A large request's buffer is not kept for the thread's next, small one.
                t_scratch = null;
            }
        }

        switch (result.Status)
        {
            case SpoolAppendStatus.Full:
                return EnqueueStatus.QueueFull;
            case SpoolAppendStatus.Unavailable:
                return EnqueueStatus.Unavailable;
            case SpoolAppendStatus.Stopped:
                return EnqueueStatus.ShuttingDown;
        }

        // A host without hosted services (a bare service provider) still gets its events delivered.
        Start();
        var ackMode = _options.AckMode;
        if (ackMode == AckMode.Committed)
        {
            written = WhenCommittedAsync(result.Durable, result.EndPosition);
        }
        else if (ackMode == AckMode.Durable || audit is not null)
        {
            written = WhenDurableAsync(result.Durable);
        }
        else
        {
            _ = CountLossAsync(result.Durable, events.Count);
        }

        return EnqueueStatus.Queued;
    }

    /// <summary>Starts the consumers; calling it again does nothing.</summary>
    public void Start()
    {
        if (Volatile.Read(ref _running) is not null)
        {
            return;
        }

        lock (_startLock)
        {
            if (_running is null)
            {
                var token = _abort.Token;
                _running = Task.WhenAll(_consumers.Select(c => Task.Run(() => RunConsumerAsync(c, token))));
            }
        }
    }

    /// <summary>
    /// Stops taking events, fsyncs what was accepted and lets the consumers deliver it. When
    /// <paramref name="cancellationToken"/> fires first, the consumers stop and what they have not delivered stays in
    /// the spool for the next start.
    /// </summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (Interlocked.Exchange(ref _stopping, 1) != 0)
        {
            await (_running ?? Task.CompletedTask).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            return;
        }

        // Stopping the spool fsyncs what was accepted; its readers then return what is left and end.
        await _spool.StopAsync().ConfigureAwait(false);
        Start();
        var lagging = _consumers.Count(c => c.Committed < _spool.DurablePosition);
        if (lagging > 0)
        {
            BatchingLog.Draining(_logger, lagging);
        }

        try
        {
            await _running!.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            BatchingLog.DrainTimedOut(_logger, _consumers.Count(c => c.Committed < _spool.DurablePosition));
            await _abort.CancelAsync().ConfigureAwait(false);
            await _running!.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }

        _spool.FlushCheckpoints();
        FailCommittedWaiters();
        var (fsyncs, records, duration) = _spoolMetrics.Totals;
        if (fsyncs > 0)
        {
            BatchingLog.SpoolSummary(_spoolLogger, fsyncs, records, (double)records / fsyncs, duration.TotalMilliseconds / fsyncs);
        }
    }

    /// <summary>
    /// Stops as <see cref="StopAsync"/> does, giving the consumers <see cref="DisposeDrainBudget"/> (a host stops the
    /// collector with its own shutdown budget first): what a failing sink has not taken stays in the spool.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        using (var budget = new CancellationTokenSource(DisposeDrainBudget))
        {
            await StopAsync(budget.Token).ConfigureAwait(false);
        }

        await _spool.DisposeAsync().ConfigureAwait(false);
        _abort.Dispose();
    }

    private async Task RunConsumerAsync(SpoolConsumer consumer, CancellationToken stopping)
    {
        try
        {
            await consumer.RunAsync(stopping).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            BatchingLog.ConsumerFailed(_logger, ex, consumer.Destination);
        }
    }

    private static async Task WhenDurableAsync(Task durable)
    {
        try
        {
            await durable.ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            throw new BatchWriteException("spool_write_failed", ex);
        }
    }

    private async Task WhenCommittedAsync(Task durable, long end)
    {
        await WhenDurableAsync(durable).ConfigureAwait(false);
        var committed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_waitersLock)
        {
            _waiters.Enqueue(committed, end);
        }

        // A consumer may have committed between the fsync and the enqueue.
        ReleaseCommittedWaiters();
        await committed.Task.ConfigureAwait(false);
    }

    private async Task CountLossAsync(Task durable, int events)
    {
        try
        {
            await durable.ConfigureAwait(false);
        }
        catch (Exception)
        {
            // Enqueued mode: the sender was already told 202; all that is left is to make the loss visible.
            _metrics.EventsDropped(events, "spool_write_failed");
            BatchingLog.EventsDropped(_logger, events, "spool_write_failed");
        }
    }

    // Committed mode waits for the first sink (PostgreSQL when registered) and the audit trail, not for every sink.
    private void ReleaseCommittedWaiters()
    {
        var committed = Math.Min(_consumers[0].Committed, _consumers[^1].Committed);

        lock (_waitersLock)
        {
            while (_waiters.TryPeek(out var waiter, out var end) && end <= committed)
            {
                _waiters.Dequeue();
                waiter.TrySetResult();
            }
        }
    }

    private void FailCommittedWaiters()
    {
        lock (_waitersLock)
        {
            while (_waiters.TryDequeue(out var waiter, out _))
            {
                waiter.TrySetException(new BatchWriteException("shutdown", new OperationCanceledException("The collector stopped before every sink had the events; they stay in the spool.")));
            }
        }
    }

    private async Task WriteAuditAsync(SpoolDelivery delivery, CancellationToken cancellationToken)
    {
        List<AuditRecord>? records = null;
        foreach (var request in delivery.Requests)
        {
            if (request.Audit is { } record)
            {
                (records ??= []).Add(record);
            }
        }

        if (records is null)
        {
            return;
        }

        if (_audit is null)
        {
            throw new InvalidOperationException("Audit records were spooled but no audit trail is configured.");
        }

        await _audit.WriteAsync(records, cancellationToken).ConfigureAwait(false);
    }

    // After the first sink wrote a batch: the seed's log line, the written-events metric, and the commit observers.
    private void Written(SpoolDelivery delivery)
    {
        var batch = delivery.Batch;
        _metrics.BatchWritten(batch.Count);
        LogBulkInserted(batch);

        // The events are stored: an observer that fails (the recent-events view, a host's metrics) is logged and
        // counted, and never holds back delivery.
        foreach (var observer in _observers)
        {
            try
            {
                observer.OnCommitted(batch);
            }
            catch (Exception ex)
            {
                _metrics.ObserverFailed();
                BatchingLog.ObserverFailed(_logger, ex, observer.GetType().Name, batch.Count);
            }
        }
    }

    private void LogBulkInserted(EventBatch batch)
    {
        if (!_logger.IsEnabled(LogLevel.Information))
        {
            return;
        }

        // Events arrive grouped by request, so runs of one client and site are the common case.
        var counts = new Dictionary<(string ClientId, string SiteId), int>();
        foreach (var e in batch.Events)
        {
            var key = (e.ClientId, e.SiteId);
            counts[key] = counts.GetValueOrDefault(key) + 1;
        }

        foreach (var ((clientId, siteId), count) in counts)
        {
            BatchingLog.BulkInserted(_logger, count, clientId, siteId);
        }
    }

    // Spool consumer names from sink names: lower case, letters, digits, '.', '_' and '-', unique, stable across starts
    // of the same configuration.
    internal static string[] ConsumerNames(IReadOnlyList<IEventSink> sinks)
    {
        var names = new string[sinks.Count];
        var used = new HashSet<string>(StringComparer.Ordinal) { AuditConsumerName };
        for (var i = 0; i < sinks.Count; i++)
        {
            var name = new StringBuilder("sink-");
            foreach (var c in sinks[i].Name.ToLowerInvariant())
            {
                name.Append(c is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '.' or '_' or '-' ? c : '-');
            }

            var candidate = name.ToString();
            if (candidate.Length > 56)
            {
                candidate = candidate[..56];
            }

            var unique = candidate;
            for (var n = 2; !used.Add(unique); n++)
            {
                unique = candidate + "-" + n.ToString(CultureInfo.InvariantCulture);
            }

            names[i] = unique;
        }

        return names;
    }
}

/// <summary>The outcome of adding a request's events to the queue.</summary>
internal enum EnqueueStatus
{
    Queued,

    /// <summary>The spool is full (<see cref="Spool.SpoolOptions.MaxBytes"/>, or the disk's free-space floor).</summary>
    QueueFull,

    /// <summary>The spool folder cannot be written.</summary>
    Unavailable,

    /// <summary>The request's record is larger than a spool segment can hold.</summary>
    TooLarge,

    ShuttingDown,
}

/// <summary>The batch carrying a request's events was not written.</summary>
internal sealed class BatchWriteException(string reason, Exception innerException)
    : Exception($"The batch was not written ({reason}).", innerException)
{
    public string Reason { get; } = reason;
}
