using System.Diagnostics;
using System.Runtime.ExceptionServices;
using System.Threading.Channels;
using Evothesis.Collector.Diagnostics;
using Evothesis.Collector.Events;
using Evothesis.Collector.Privacy;
using Evothesis.Collector.Privacy.Internal;
using Evothesis.Collector.Sinks;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Evothesis.Collector.Batching;

/// <summary>
/// The queue between requests and sinks. Requests add their events; one flusher takes them out in
/// batches, closed when they reach <see cref="BatchingOptions.BatchSize"/> or when their oldest event has
/// waited <see cref="BatchingOptions.FlushInterval"/> since it was queued, and writes each batch to every sink.
/// </summary>
/// <remarks>
/// Group commit: in <see cref="AckMode.Durable"/> mode each request gets a task that completes when the
/// batch carrying its events is written (or fails when it is not), so concurrent requests share one write.
/// The queue is bounded by events, not requests: a request that does not fit is refused, never dropped.
/// A request's audit record (hipaa clients) travels with its events and is written, with the others of the
/// batch, before the batch's events: one audit write per batch, and no audited event is stored without its
/// record. Audited requests are always acknowledged durably, whatever the <see cref="AckMode"/>.
/// </remarks>
internal sealed class EventBatcher : IAsyncDisposable
{
    private readonly Channel<PendingWrite> _channel =
        Channel.CreateUnbounded<PendingWrite>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = false });

    private readonly IEventSink[] _sinks;
    private readonly IBatchCommitObserver[] _observers;
    private readonly AuditTrail? _audit;
    private readonly BatchingOptions _options;
    private readonly TimeProvider _time;
    private readonly CollectorMetrics _metrics;
    private readonly ILogger _logger;

    // Cancels sink writes when the shutdown budget runs out.
    private readonly CancellationTokenSource _abort = new();

    // Events admitted and not yet written, and the request-body bytes they keep alive (payloads are slices of
    // their bodies): added by request threads, subtracted by the flusher.
    private long _queued;
    private long _queuedBytes;

    // Serializes the one start of the flusher (hosted service, first request, or stop).
    private readonly Lock _startLock = new();

    // Set once by StopAsync; read by request threads.
    private int _stopping;

    private Task? _flusher;

    // Written by the flusher, read by health checks: whether the most recent write failed.
    private volatile bool _lastWriteFailed;

    public EventBatcher(
        SinkSet sinks,
        IEnumerable<IBatchCommitObserver> observers,
        IOptions<CollectorOptions> options,
        TimeProvider timeProvider,
        CollectorMetrics metrics,
        ILogger<EventBatcher> logger,
        AuditTrail? audit = null)
    {
        _sinks = sinks.Sinks;
        _observers = observers.ToArray();
        _audit = audit;
        _options = options.Value.Batching;
        _time = timeProvider;
        _metrics = metrics;
        _logger = logger;
        metrics.ObserveQueueDepth(() => Interlocked.Read(ref _queued));
    }

    /// <summary>Raised by the flusher each time it starts waiting for more events of a partial batch.</summary>
    /// <remarks>Lets tests advance a fake clock only once the flusher is waiting on it.</remarks>
    internal event Action? WaitingForMoreEvents;

    /// <summary>Gets the number of events accepted and not yet written.</summary>
    public long QueuedEvents => Interlocked.Read(ref _queued);

    /// <summary>Gets the sinks every batch is written to.</summary>
    public IReadOnlyList<IEventSink> Sinks => _sinks;

    /// <summary>Gets a value indicating whether the flusher is running.</summary>
    public bool IsRunning => _flusher is { IsCompleted: false };

    /// <summary>Gets a value indicating whether the most recent batch write failed.</summary>
    public bool LastWriteFailed => _lastWriteFailed;

    /// <summary>Gets the most events the queue holds.</summary>
    public int Capacity => _options.QueueCapacity;

    /// <summary>Adds the events of one request to the queue.</summary>
    /// <param name="events">The events; the batcher owns the list from now on.</param>
    /// <param name="written">
    /// In <see cref="AckMode.Durable"/> mode, completes when the events are written and fails with
    /// <see cref="BatchWriteException"/> when they are not; <see langword="null"/> in <see cref="AckMode.Enqueued"/> mode.
    /// </param>
    public EnqueueStatus TryEnqueue(IReadOnlyList<CollectedEvent> events, out Task? written) =>
        TryEnqueue(events, audit: null, retainedBytes: 0, out written);

    /// <summary>Adds the events of one request, and its audit record if it has one, to the queue.</summary>
    /// <param name="events">The events; the batcher owns the list from now on.</param>
    /// <param name="audit">The request's audit record, written before its events; the write fails with them.</param>
    /// <param name="retainedBytes">The memory the events keep alive until written (their request body).</param>
    /// <param name="written">
    /// Completes when the events are written and fails with <see cref="BatchWriteException"/> when they (or the
    /// audit record) are not. <see langword="null"/> in <see cref="AckMode.Enqueued"/> mode for requests without
    /// an audit record: an audited request is always acknowledged durably, since acknowledging it before its
    /// record is stored would either lose the record silently or store events without one.
    /// </param>
    public EnqueueStatus TryEnqueue(IReadOnlyList<CollectedEvent> events, AuditRecord? audit, long retainedBytes, out Task? written)
    {
        written = null;
        if (Volatile.Read(ref _stopping) != 0)
        {
            return EnqueueStatus.ShuttingDown;
        }

        // Bounded twice: by events, and by the bytes they pin, since a small gzip body can inflate to
        // MaxBodyBytes for a single event.
        var count = events.Count;
        var overEvents = Interlocked.Add(ref _queued, count) > _options.QueueCapacity;
        var overBytes = Interlocked.Add(ref _queuedBytes, retainedBytes) > _options.QueueCapacityBytes;
        if (overEvents || overBytes)
        {
            Release(count, retainedBytes);
            return EnqueueStatus.QueueFull;
        }

        var completion = _options.AckMode == AckMode.Durable || audit is not null
            ? new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)
            : null;
        if (!_channel.Writer.TryWrite(new PendingWrite(events, completion, audit, _time.GetTimestamp(), retainedBytes)))
        {
            Release(count, retainedBytes);
            return EnqueueStatus.ShuttingDown;
        }

        // A host without hosted services (a bare service provider) still gets its events written.
        Start();
        written = completion?.Task;
        return EnqueueStatus.Queued;
    }

    /// <summary>Starts the flusher; calling it again does nothing.</summary>
    public void Start()
    {
        if (Volatile.Read(ref _flusher) is not null)
        {
            return;
        }

        lock (_startLock)
        {
            _flusher ??= Task.Run(RunAsync);
        }
    }

    /// <summary>
    /// Stops taking events and writes everything queued. When <paramref name="cancellationToken"/> fires first,
    /// the sink writes in progress are cancelled and what is still queued fails (and is counted as dropped).
    /// </summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        Interlocked.Exchange(ref _stopping, 1);
        _channel.Writer.TryComplete();

        // Never started (a host that did not run its hosted services): start now so what was queued is written.
        Start();

        var queued = QueuedEvents;
        if (queued > 0)
        {
            BatchingLog.Draining(_logger, queued);
        }

        try
        {
            await _flusher!.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            BatchingLog.DrainTimedOut(_logger, QueuedEvents);
            await _abort.CancelAsync().ConfigureAwait(false);
            await _flusher!.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync(CancellationToken.None).ConfigureAwait(false);
        _abort.Dispose();
    }

    private async Task RunAsync()
    {
        var reader = _channel.Reader;
        var pending = new List<PendingWrite>();

        // A wait for more events that outlives one batch when the flush interval wins the race; kept so
        // the single reader never has two waits outstanding.
        Task<bool>? moreEvents = null;
        while (true)
        {
            try
            {
                moreEvents ??= reader.WaitToReadAsync().AsTask();
                if (!await moreEvents.ConfigureAwait(false))
                {
                    return;
                }

                moreEvents = null;
                var count = 0;
                using var intervalCancellation = new CancellationTokenSource();
                Task? interval = null;
                while (true)
                {
                    while (count < _options.BatchSize && reader.TryRead(out var item))
                    {
                        pending.Add(item);
                        count += item.Events.Count;
                    }

                    if (count >= _options.BatchSize)
                    {
                        break;
                    }

                    if (interval is null)
                    {
                        // The interval runs from the arrival of the batch's oldest event, not from now: events
                        // that arrived while the previous batch was being written have waited already.
                        var remaining = _options.FlushInterval - _time.GetElapsedTime(pending[0].EnqueuedAt);
                        if (remaining <= TimeSpan.Zero)
                        {
                            break;
                        }

                        interval = Task.Delay(remaining, _time, intervalCancellation.Token);
                    }

                    moreEvents = reader.WaitToReadAsync().AsTask();
                    WaitingForMoreEvents?.Invoke();
                    var first = await Task.WhenAny(moreEvents, interval).ConfigureAwait(false);
                    if (first == interval)
                    {
                        break;
                    }

                    var more = await moreEvents.ConfigureAwait(false);
                    moreEvents = null;
                    if (!more)
                    {
                        break;
                    }
                }

                await intervalCancellation.CancelAsync().ConfigureAwait(false);
                if (count > 0)
                {
                    await FlushAsync(pending, count).ConfigureAwait(false);
                }
            }
            catch (Exception ex)
            {
                BatchingLog.FlusherFailed(_logger, ex);
                FailAll(pending, ex, "flusher_failure");
            }
            finally
            {
                pending.Clear();
            }
        }
    }

    private async Task FlushAsync(List<PendingWrite> pending, int count)
    {
        count = await WriteAuditRecordsAsync(pending, count).ConfigureAwait(false);
        if (count == 0)
        {
            return;
        }

        var events = new CollectedEvent[count];
        var position = 0;
        foreach (var item in pending)
        {
            foreach (var e in item.Events)
            {
                events[position++] = e;
            }
        }

        var now = _time.GetUtcNow();
        var batch = new EventBatch(Guid.CreateVersion7(now), now, events);
        using var activity = CollectorActivitySource.Instance.StartActivity("evothesis.collector.flush");
        activity?.SetTag("evothesis.batch.size", count);

        Exception? failure = null;
        try
        {
            await WriteToSinksAsync(batch).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            failure = ex;
        }

        // Some clients' events are stored by every sink and others not: acknowledge the former, refuse the latter.
        // (A ClientWriteException naming no client of the batch says nothing usable: the batch fails whole.)
        if (failure is ClientWriteException partial && TakeRequestsOf(pending, partial.FailedClientIds) is { Count: > 0 } failed)
        {
            BatchingLog.ClientsFailed(_logger, partial.FailedClientIds.Count, failed.Sum(item => item.Events.Count), batch.Count);
            FailAll(failed, partial, _abort.IsCancellationRequested ? "shutdown" : "sink_failure");
            if (pending.Count == 0)
            {
                _lastWriteFailed = true;
                activity?.SetStatus(ActivityStatusCode.Error);
                return;
            }

            var written = new List<CollectedEvent>(batch.Count);
            foreach (var item in pending)
            {
                written.AddRange(item.Events);
            }

            batch = new EventBatch(batch.Id, batch.CreatedAt, written);
            count = written.Count;
            failure = null;
        }

        _lastWriteFailed = failure is not null;
        if (failure is null)
        {
            // The events are stored: an observer that fails (the recent-events view, a host's metrics) is logged and
            // counted, and never turns a stored batch into refused requests.
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

            Release(pending);
            _metrics.BatchWritten(count);
            LogBulkInserted(batch);
            foreach (var item in pending)
            {
                item.Completion?.TrySetResult();
            }
        }
        else
        {
            activity?.SetStatus(ActivityStatusCode.Error);
            FailAll(pending, failure, _abort.IsCancellationRequested ? "shutdown" : "sink_failure");
        }
    }

    // Before the events: a stored audited event always has its record. When the audit write fails, the
    // audited requests are refused (their senders retry) and the rest of the batch is written as usual.
    // Returns the number of events left to write.
    private async Task<int> WriteAuditRecordsAsync(List<PendingWrite> pending, int count)
    {
        List<AuditRecord>? records = null;
        foreach (var item in pending)
        {
            if (item.Audit is { } record)
            {
                (records ??= []).Add(record);
            }
        }

        if (records is null)
        {
            return count;
        }

        Exception failure;
        try
        {
            if (_audit is null)
            {
                throw new InvalidOperationException("Audit records were queued but no audit trail is configured.");
            }

            using var timeout = new CancellationTokenSource(_options.SinkTimeout, _time);
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(timeout.Token, _abort.Token);
            await _audit.WriteAsync(records, linked.Token).ConfigureAwait(false);
            return count;
        }
        catch (Exception ex)
        {
            failure = ex;
        }

        var refused = 0;
        foreach (var item in pending)
        {
            if (item.Audit is not null)
            {
                refused += item.Events.Count;
                Release(item.Events.Count, item.RetainedBytes);
                item.Completion!.TrySetException(new BatchWriteException("audit_failure", failure));
            }
        }

        pending.RemoveAll(item => item.Audit is not null);
        return count - refused;
    }

    // Moves the requests that carry events of the given clients out of pending.
    private static List<PendingWrite> TakeRequestsOf(List<PendingWrite> pending, IReadOnlySet<string> clients)
    {
        var taken = new List<PendingWrite>();
        pending.RemoveAll(item =>
        {
            var hit = item.Events.Any(e => clients.Contains(e.ClientId));
            if (hit)
            {
                taken.Add(item);
            }

            return hit;
        });
        return taken;
    }

    private void FailAll(List<PendingWrite> pending, Exception failure, string reason)
    {
        var count = 0;
        var acknowledged = 0;
        foreach (var item in pending)
        {
            count += item.Events.Count;
            if (item.Completion is null)
            {
                acknowledged += item.Events.Count;
            }
            else
            {
                item.Completion.TrySetException(new BatchWriteException(reason, failure));
            }
        }

        Release(pending);
        if (acknowledged > 0)
        {
            // Enqueued mode: the sender was already told 202; all that is left is to make the loss visible.
            _metrics.EventsDropped(acknowledged, reason);
            BatchingLog.EventsDropped(_logger, acknowledged, reason);
        }
    }

    private async Task WriteToSinksAsync(EventBatch batch)
    {
        if (_sinks.Length == 1)
        {
            await WriteToSinkAsync(_sinks[0], batch).ConfigureAwait(false);
            return;
        }

        var writes = new Task[_sinks.Length];
        for (var i = 0; i < _sinks.Length; i++)
        {
            writes[i] = WriteToSinkAsync(_sinks[i], batch);
        }

        try
        {
            await Task.WhenAll(writes).ConfigureAwait(false);
        }
        catch (Exception first)
        {
            // When every failing sink failed only some clients, only those clients' requests fail. A sink that was
            // cancelled (timeout, shutdown) stored nothing: the batch fails whole.
            var failures = writes.Where(w => w.IsFaulted).Select(w => w.Exception!.InnerException!).ToList();
            if (failures.Count > 0 && !writes.Any(w => w.IsCanceled) && failures.All(f => f is ClientWriteException))
            {
                throw new ClientWriteException(failures.SelectMany(f => ((ClientWriteException)f).FailedClientIds), first);
            }

            // A sink that failed the whole batch fails it, whichever failure came first.
            var whole = failures.FirstOrDefault(f => f is not ClientWriteException);
            if (whole is null && writes.Any(w => w.IsCanceled))
            {
                throw new OperationCanceledException("A sink's write was cancelled (timeout or shutdown); the batch is not written.", first);
            }

            ExceptionDispatchInfo.Throw(whole ?? first);
        }
    }

    private async Task WriteToSinkAsync(IEventSink sink, EventBatch batch)
    {
        using var timeout = new CancellationTokenSource(_options.SinkTimeout, _time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(timeout.Token, _abort.Token);
        var started = _time.GetTimestamp();
        try
        {
            await sink.WriteAsync(batch, linked.Token).ConfigureAwait(false);
            _metrics.SinkWrite(sink.Name, _time.GetElapsedTime(started), success: true);
        }
        catch (Exception ex)
        {
            _metrics.SinkWrite(sink.Name, _time.GetElapsedTime(started), success: false);
            BatchingLog.SinkFailed(_logger, ex, sink.Name, batch.Count);
            throw;
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

    private void Release(List<PendingWrite> items)
    {
        long events = 0, bytes = 0;
        foreach (var item in items)
        {
            events += item.Events.Count;
            bytes += item.RetainedBytes;
        }

        Release(events, bytes);
    }

    private void Release(long events, long bytes)
    {
        Interlocked.Add(ref _queued, -events);
        Interlocked.Add(ref _queuedBytes, -bytes);
    }

    private readonly record struct PendingWrite(
        IReadOnlyList<CollectedEvent> Events,
        TaskCompletionSource? Completion,
        AuditRecord? Audit,
        long EnqueuedAt,
        long RetainedBytes);
}

/// <summary>The outcome of adding a request's events to the queue.</summary>
internal enum EnqueueStatus
{
    Queued,
    QueueFull,
    ShuttingDown,
}

/// <summary>The batch carrying a request's events was not written.</summary>
internal sealed class BatchWriteException(string reason, Exception innerException)
    : Exception($"The batch was not written ({reason}).", innerException)
{
    public string Reason { get; } = reason;
}
