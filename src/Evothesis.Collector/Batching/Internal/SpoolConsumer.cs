using System.Diagnostics;
using Evothesis.Collector.Diagnostics;
using Evothesis.Collector.Events;
using Evothesis.Collector.Sinks;
using Evothesis.Collector.Spool.Internal;
using Microsoft.Extensions.Logging;

namespace Evothesis.Collector.Batching.Internal;

/// <summary>
/// Delivers the spool's records to one destination (a sink, or the audit trail) from its own cursor, following the
/// destination's <see cref="DeliveryPolicy"/>: a batch is cut once <see cref="DeliveryPolicy.MaxEvents"/> events or
/// <see cref="DeliveryPolicy.MaxBytes"/> spooled bytes are waiting, or once its oldest record is
/// <see cref="DeliveryPolicy.MaxAge"/> old; up to <see cref="DeliveryPolicy.MaxInFlight"/> batches are written at once,
/// each retried with backoff until it is written, and the cursor commits them strictly in order. A destination that is
/// down only makes its own lag grow.
/// </summary>
/// <remarks>
/// <para>
/// <b>Threads.</b> The loop (reading the spool's files, cutting batches, committing and fsyncing the cursor) runs on
/// a thread of its own and sleeps on one event, woken by the spool's next flush, the age deadline (a
/// <see cref="TimeProvider"/> timer), the end of a write, or shutdown: no polling, and no blocking file I/O on the
/// thread pool the requests are answered from. Writes are started from the loop and continue wherever the sink's
/// I/O completes.
/// </para>
/// <para>
/// <b>Batch ids.</b> A batch's id and creation time come from its first record (its spool position and append time),
/// so a batch read again after a crash from the same cursor names the same objects: an object store overwrites them
/// instead of adding twins, and PostgreSQL finds the same row ids.
/// </para>
/// <para>
/// <b>Refusals.</b> A destination with <see cref="Parking"/> that refuses a batch for good
/// (<see cref="EventsRejectedException"/>) <see cref="BatchingOptions.ParkAfterAttempts"/> times has the batch's
/// records delivered one by one; those refused again are parked. A <see cref="ClientWriteException"/> with
/// <see cref="ClientWriteException.IsPermanent"/> as often parks the named clients' records, and the rest counts as
/// delivered. Every other failure is retried with backoff for as long as the host runs. Parked records are written
/// and fsynced before the cursor moves past them.
/// </para>
/// </remarks>
internal sealed class SpoolConsumer
{
    // The most payload bytes read at once: a batch never holds more than this much of the spool in memory.
    private const int MaxReadBytes = 16 * 1024 * 1024;

    private const string RejectedReason = "rejected";
    private const string ClientFailedReason = "client_failed";

    private readonly WriteAheadSpool _spool;
    private readonly Func<SpoolDelivery, CancellationToken, Task> _deliver;
    private readonly Action<SpoolDelivery>? _delivered;
    private readonly BatchingOptions _options;
    private readonly RetryBackoff _backoff;
    private readonly TimeProvider _time;
    private readonly CollectorMetrics _metrics;
    private readonly ILogger _logger;

    // The loop's only wait: set by the spool's flush signal, the age timer, the end of a write and shutdown.
    private readonly WakeSignal _wake = new();

    // Others waiting for this consumer to pass a position (the sinks, for the audit trail); guarded by itself.
    private readonly List<(long Position, TaskCompletionSource Reached)> _waiters = [];

    // Written by writes (any thread), read by health checks: how many batches are failing right now.
    private int _failing;

    // Written by the loop, read by anyone.
    private long _committed;
    private long _sleepingAt = -1;

    public SpoolConsumer(
        string name,
        string destination,
        WriteAheadSpool spool,
        Func<SpoolDelivery, CancellationToken, Task> deliver,
        Action<SpoolDelivery>? delivered,
        DeliveryPolicy policy,
        BatchingOptions options,
        TimeProvider time,
        CollectorMetrics metrics,
        ILogger logger)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(policy.MaxEvents, 1, $"{destination}'s {nameof(policy.MaxEvents)}");
        ArgumentOutOfRangeException.ThrowIfLessThan(policy.MaxBytes, 1, $"{destination}'s {nameof(policy.MaxBytes)}");
        ArgumentOutOfRangeException.ThrowIfLessThan(policy.MaxAge, TimeSpan.Zero, $"{destination}'s {nameof(policy.MaxAge)}");
        ArgumentOutOfRangeException.ThrowIfLessThan(policy.MaxInFlight, 1, $"{destination}'s {nameof(policy.MaxInFlight)}");
        Name = name;
        Destination = destination;
        Policy = policy;
        _spool = spool;
        _deliver = deliver;
        _delivered = delivered;
        _options = options;
        _backoff = new RetryBackoff(options.RetryBaseDelay, options.RetryMaxDelay);
        _time = time;
        _metrics = metrics;
        _logger = logger;
        _committed = spool.GetCommittedPosition(name);
    }

    /// <summary>Gets the consumer's name in the spool (its checkpoint file).</summary>
    public string Name { get; }

    /// <summary>Gets or sets a value indicating whether the consumer delivers only the requests' audit records.</summary>
    public bool AuditOnly { get; init; }

    /// <summary>
    /// Gets where records the destination refuses for good are parked; <see langword="null"/> for a destination whose
    /// records are never parked (the audit trail: every failure is retried).
    /// </summary>
    public ParkedRecords? Parking { get; init; }

    /// <summary>Gets the name of the destination, for logs and metrics.</summary>
    public string Destination { get; }

    /// <summary>Gets how the consumer batches.</summary>
    public DeliveryPolicy Policy { get; }

    /// <summary>Gets a value indicating whether a batch is failing right now (it is being retried).</summary>
    public bool IsFailing => Volatile.Read(ref _failing) > 0;

    /// <summary>Gets the position up to which every record is delivered.</summary>
    public long Committed => Interlocked.Read(ref _committed);

    /// <summary>
    /// Gets the position the loop has read up to while it sleeps (nothing more to read or cut until the spool's next
    /// flush, the age deadline or the end of a write), or -1 while it works: lets tests know it waits.
    /// </summary>
    internal long SleepingAt => Interlocked.Read(ref _sleepingAt);

    /// <summary>Raised after each commit, with the new position.</summary>
    public event Action<SpoolConsumer, long>? CommittedTo;

    /// <summary>
    /// Gets or sets what a delivery waits for first: the audit trail's consumer, for deliveries that carry audited
    /// requests, so that no audited event is stored before its audit record.
    /// </summary>
    public Func<SpoolDelivery, CancellationToken, Task>? Gate { get; set; }

    /// <summary>Completes once every record before <paramref name="position"/> is delivered.</summary>
    public Task WhenCommittedAsync(long position, CancellationToken cancellationToken)
    {
        if (Committed >= position)
        {
            return Task.CompletedTask;
        }

        var reached = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_waiters)
        {
            _waiters.Add((position, reached));
        }

        // The loop may have committed between the check and the registration.
        ReleaseWaiters();
        return reached.Task.WaitAsync(cancellationToken);
    }

    /// <summary>
    /// Delivers records on a thread of its own until <paramref name="stopping"/> fires, or the spool has stopped and
    /// every record is delivered.
    /// </summary>
    public Task RunAsync(CancellationToken stopping)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var thread = new Thread(() =>
        {
            try
            {
                Run(stopping);
                done.TrySetResult();
            }
            catch (Exception exception)
            {
                done.TrySetException(exception);
            }
        })
        {
            IsBackground = true,
            Name = "Evothesis consumer " + Name,
        };
        thread.Start();
        return done.Task;
    }

    // A UUIDv7 whose time is the first record's append time and whose other bits are the record's position: the same
    // records read again give the same id.
    internal static Guid BatchId(long position, DateTimeOffset appendedAt)
    {
        Span<byte> bytes = stackalloc byte[16];
        var milliseconds = appendedAt.ToUnixTimeMilliseconds();
        for (var i = 5; i >= 0; i--)
        {
            bytes[i] = (byte)milliseconds;
            milliseconds >>= 8;
        }

        bytes[6] = 0x70;
        bytes[8] = 0x80;
        System.Buffers.Binary.BinaryPrimitives.WriteInt64BigEndian(bytes[8..], position);
        bytes[8] = (byte)((bytes[8] & 0x3F) | 0x80);
        return new Guid(bytes, bigEndian: true);
    }

    private static void Wake(object? state) => ((WakeSignal)state!).Set();

    private void Run(CancellationToken stopping)
    {
        using var reader = _spool.OpenReader(Name);
        using var stop = stopping.Register(Wake, _wake);
        using var deadline = _time.CreateTimer(Wake, _wake, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        var pending = new PendingRecords(reader.Position, AuditOnly);
        var inFlight = new Queue<InFlight>();
        Task? watched = null;
        var readAll = false;
        while (true)
        {
            // Reset before looking: whatever happens from here on wakes the wait below.
            _wake.Reset();
            while (inFlight.TryPeek(out var head) && head.Stored.IsCompleted)
            {
                inFlight.Dequeue();
                if (head.Stored.Result is not { } stored)
                {
                    // Stopped during the write: it and what follows stay in the spool.
                    Finish(inFlight);
                    return;
                }

                Commit(head.Delivery, stored);
            }

            if (stopping.IsCancellationRequested)
            {
                Finish(inFlight);
                return;
            }

            // Read what is on disk while the next batch is not full.
            Task? more = null;
            while (!readAll && !pending.IsFull(Policy))
            {
                var read = reader.Read(
                    (int)Math.Max(1, Policy.MaxEvents - pending.Events),
                    (int)Math.Clamp(Policy.MaxBytes - pending.Bytes, 1, MaxReadBytes),
                    out var signal,
                    out var stopped);
                if (read.Count == 0)
                {
                    readAll = stopped;
                    more = signal;
                    break;
                }

                pending.Add(read);
            }

            // Cut batches while a write may start: full ones at once, others once their oldest record is old enough
            // (at once when the spool is stopping).
            var now = _time.GetUtcNow();
            var draining = readAll || _spool.IsStopping;
            var sleep = Timeout.InfiniteTimeSpan;
            while (pending.Count > 0 && inFlight.Count < Policy.MaxInFlight)
            {
                if (!draining && pending.Requests > 0 && !pending.IsFull(Policy))
                {
                    var due = pending.OldestAppendedAt + Policy.MaxAge;
                    if (due > now)
                    {
                        sleep = due - now;
                        break;
                    }
                }

                var delivery = pending.Take(Policy);
                inFlight.Enqueue(new InFlight(delivery, Start(delivery, stopping)));
            }

            if (readAll && pending.Count == 0 && inFlight.Count == 0)
            {
                return;
            }

            if (more is null && !readAll && !pending.IsFull(Policy))
            {
                // Reading stopped at a full batch that has been cut since: there may be more on disk already.
                continue;
            }

            deadline.Change(sleep, Timeout.InfiniteTimeSpan);
            if (more is not null && !ReferenceEquals(more, watched))
            {
                watched = more;
                more.ContinueWith(
                    static (_, state) => Wake(state), _wake, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
            }

            Interlocked.Exchange(ref _sleepingAt, reader.Position);
            _wake.Wait();
            Interlocked.Exchange(ref _sleepingAt, -1);
        }
    }

    private Task<SpoolDelivery?> Start(SpoolDelivery delivery, CancellationToken stopping)
    {
        var stored = DeliverWithRetriesAsync(delivery, stopping);
        stored.ContinueWith(
            static (_, state) => Wake(state), _wake, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        return stored;
    }

    // Shutdown: lets the writes in flight end (they see the token), and commits those that stored their batch, in order.
    private void Finish(Queue<InFlight> inFlight)
    {
        while (inFlight.TryDequeue(out var next))
        {
            if (next.Stored.GetAwaiter().GetResult() is not { } stored)
            {
                break;
            }

            Commit(next.Delivery, stored);
        }

        foreach (var rest in inFlight)
        {
            rest.Stored.Wait(CancellationToken.None);
        }
    }

    private void Commit(SpoolDelivery delivery, SpoolDelivery stored)
    {
        _spool.Commit(Name, delivery.EndPosition);
        Interlocked.Exchange(ref _committed, delivery.EndPosition);
        ReleaseWaiters();
        if (stored.Batch.Count > 0)
        {
            _delivered?.Invoke(stored);
        }

        CommittedTo?.Invoke(this, delivery.EndPosition);

        // Before the next batch is cut: after a crash only the batches in flight are read again, from the same first
        // request, so the first gets the same id. With a lazily written cursor, the batches since it would be read again
        // with other boundaries, so other ids and object keys: stored twice. A delivery that carried no request (the
        // audit trail's stretch of unaudited records) wrote nothing: its cursor is written with the next delivery that
        // does, or by the spool's checkpoint interval, and read again it is skipped again, ahead of the same first
        // request (see PendingRecords.Take).
        if (delivery.Requests.Count > 0)
        {
            _spool.FlushCheckpoints(Name);
        }
    }

    private void ReleaseWaiters()
    {
        var committed = Committed;
        lock (_waiters)
        {
            _waiters.RemoveAll(waiter =>
            {
                if (waiter.Position > committed)
                {
                    return false;
                }

                waiter.Reached.TrySetResult();
                return true;
            });
        }
    }

    // Writes a batch until it is stored, parked or the consumer stops. Returns what was stored (the batch, or the part
    // not parked), or null when stopped.
    private async Task<SpoolDelivery?> DeliverWithRetriesAsync(SpoolDelivery delivery, CancellationToken stopping)
    {
        if (delivery.Requests.Count == 0)
        {
            // Only records that carry nothing for this destination (requests without an audit record).
            return delivery;
        }

        var failing = false;
        try
        {
            var refusals = 0;
            for (var attempt = 1; ; attempt++)
            {
                Exception failure;
                try
                {
                    await DeliverOnceAsync(delivery, stopping).ConfigureAwait(false);
                    return delivery;
                }
                catch (OperationCanceledException) when (stopping.IsCancellationRequested)
                {
                    return null;
                }
                catch (Exception exception)
                {
                    failure = exception;
                }

                if (!failing)
                {
                    failing = true;
                    Interlocked.Increment(ref _failing);
                }

                if (Parking is not null && IsRefusal(failure) && ++refusals >= _options.ParkAfterAttempts)
                {
                    return failure is ClientWriteException clients
                        ? await ParkClientsAsync(delivery, clients, stopping).ConfigureAwait(false)
                        : await DeliverOneByOneAsync(delivery, stopping).ConfigureAwait(false);
                }

                if (!await WaitToRetryAsync(failure, delivery, attempt, stopping).ConfigureAwait(false))
                {
                    return null;
                }
            }
        }
        finally
        {
            if (failing && Interlocked.Decrement(ref _failing) == 0)
            {
                BatchingLog.DeliveryRecovered(_logger, Destination);
            }
        }
    }

    // After a batch was refused ParkAfterAttempts times: each request as its own batch (its id from its own position);
    // one refused again is parked, one that fails otherwise is retried as any batch is.
    private async Task<SpoolDelivery?> DeliverOneByOneAsync(SpoolDelivery delivery, CancellationToken stopping)
    {
        BatchingLog.DeliveringOneByOne(_logger, Destination, delivery.Requests.Count, delivery.StartPosition, _options.ParkAfterAttempts);
        var stored = new List<int>(delivery.Requests.Count);
        for (var i = 0; i < delivery.Requests.Count; i++)
        {
            var single = delivery.Single(i);
            for (var attempt = 1; ; attempt++)
            {
                Exception failure;
                try
                {
                    await DeliverOnceAsync(single, stopping).ConfigureAwait(false);
                    stored.Add(i);
                    break;
                }
                catch (OperationCanceledException) when (stopping.IsCancellationRequested)
                {
                    return null;
                }
                catch (Exception exception)
                {
                    failure = exception;
                }

                if (failure is ClientWriteException { IsPermanent: true } clients && !BelongsTo(single.Requests[0], clients.FailedClientIds))
                {
                    // The sink stored every client but others: this request is stored.
                    stored.Add(i);
                    break;
                }

                if (IsRefusal(failure))
                {
                    if (!await ParkAsync(single, [0], failure, stopping).ConfigureAwait(false))
                    {
                        return null;
                    }

                    break;
                }

                if (!await WaitToRetryAsync(failure, single, attempt, stopping).ConfigureAwait(false))
                {
                    return null;
                }
            }
        }

        return delivery.Subset(stored);
    }

    // After ParkAfterAttempts permanent client failures: the named clients' records are parked; the exception promises
    // every other client's events are stored.
    private async Task<SpoolDelivery?> ParkClientsAsync(SpoolDelivery delivery, ClientWriteException failure, CancellationToken stopping)
    {
        var parked = new List<int>();
        var stored = new List<int>();
        for (var i = 0; i < delivery.Requests.Count; i++)
        {
            (BelongsTo(delivery.Requests[i], failure.FailedClientIds) ? parked : stored).Add(i);
        }

        if (parked.Count > 0 && !await ParkAsync(delivery, parked, failure, stopping).ConfigureAwait(false))
        {
            return null;
        }

        return delivery.Subset(stored);
    }

    // Writes the requests' records to a parked file, retrying (with backoff) while the disk refuses; false when stopped.
    private async Task<bool> ParkAsync(SpoolDelivery delivery, IReadOnlyList<int> indexes, Exception reason, CancellationToken stopping)
    {
        var records = indexes.Select(i => delivery.Records[i]).ToArray();
        var requests = indexes.Select(i => delivery.Requests[i]).ToArray();
        var events = requests.Sum(r => r.Events.Count);
        var clients = requests.SelectMany(r => r.Events).Select(e => e.ClientId).Distinct(StringComparer.Ordinal).ToArray();
        var info = new ParkedRecordInfo(
            Destination,
            reason.GetType().Name,
            reason.Message,
            _time.GetUtcNow(),
            delivery.StartPosition,
            delivery.Batch.CreatedAt,
            records.Select(r => r.Position).ToArray(),
            events,
            clients);

        string path;
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                path = Parking!.Park(info, records);
                break;
            }
            catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
            {
                var delay = _backoff.Delay(attempt, Random.Shared.NextDouble());
                BatchingLog.ParkFailed(_logger, exception, Destination, records.Length, Parking!.Folder, delay);
                try
                {
                    await Task.Delay(delay, _time, stopping).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return false;
                }
            }
        }

        var tag = reason is ClientWriteException ? ClientFailedReason : RejectedReason;
        _metrics.RecordsParked(Destination, tag, records.Length, events);
        foreach (var group in requests.Zip(records).GroupBy(p => p.First.Events.Count > 0 ? p.First.Events[0].ClientId : string.Empty, StringComparer.Ordinal))
        {
            BatchingLog.RecordsParked(
                _logger,
                Destination,
                group.Key,
                group.Sum(p => p.First.Events.Count),
                group.Count(),
                group.First().Second.Position,
                reason.GetType().Name,
                reason.Message,
                path);
        }

        return true;
    }

    private async Task<bool> WaitToRetryAsync(Exception failure, SpoolDelivery delivery, int attempt, CancellationToken stopping)
    {
        var delay = _backoff.Delay(attempt, Random.Shared.NextDouble());
        _metrics.DeliveryRetried(Destination);
        if (attempt == 1 || attempt % 10 == 0)
        {
            BatchingLog.DeliveryFailed(_logger, failure, Destination, delivery.Batch.Count, attempt, delay);
        }

        try
        {
            await Task.Delay(delay, _time, stopping).ConfigureAwait(false);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    private static bool IsRefusal(Exception failure) =>
        failure is EventsRejectedException or ClientWriteException { IsPermanent: true };

    private static bool BelongsTo(SpooledRequest request, IReadOnlySet<string> clients)
    {
        foreach (var e in request.Events)
        {
            if (clients.Contains(e.ClientId))
            {
                return true;
            }
        }

        return false;
    }

    private async Task DeliverOnceAsync(SpoolDelivery delivery, CancellationToken stopping)
    {
        if (Gate is { } gate)
        {
            await gate(delivery, stopping).ConfigureAwait(false);
        }

        using var timeout = new CancellationTokenSource(_options.SinkTimeout, _time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(timeout.Token, stopping);
        var started = _time.GetTimestamp();
        using var activity = CollectorActivitySource.Instance.StartActivity("evothesis.collector.deliver");
        activity?.SetTag("evothesis.sink", Destination);
        activity?.SetTag("evothesis.batch.size", delivery.Batch.Count);
        try
        {
            await _deliver(delivery, linked.Token).ConfigureAwait(false);
            _metrics.SinkWrite(Destination, _time.GetElapsedTime(started), success: true);
        }
        catch
        {
            _metrics.SinkWrite(Destination, _time.GetElapsedTime(started), success: false);
            activity?.SetStatus(ActivityStatusCode.Error);
            throw;
        }
    }

    // A reset event without a kernel handle (nothing to dispose): the loop's thread waits on it.
    private sealed class WakeSignal
    {
        // Monitor.Wait needs a plain object, not a System.Threading.Lock.
        private readonly object _lock = new();
        private bool _set;

        public void Set()
        {
            lock (_lock)
            {
                _set = true;
                Monitor.PulseAll(_lock);
            }
        }

        public void Reset()
        {
            lock (_lock)
            {
                _set = false;
            }
        }

        public void Wait()
        {
            lock (_lock)
            {
                while (!_set)
                {
                    Monitor.Wait(_lock);
                }
            }
        }
    }

    private readonly record struct InFlight(SpoolDelivery Delivery, Task<SpoolDelivery?> Stored);

    // Records read and not yet in a batch, in position order. Used only by the loop.
    private sealed class PendingRecords(long position, bool auditOnly)
    {
        private readonly Queue<(SpoolRecord Record, SpooledRequest? Request)> _records = new();

        // The reader's position after the last read: a batch that takes every record ends there.
        private long _readEnd = position;

        public int Count => _records.Count;

        public int Requests { get; private set; }

        public long Events { get; private set; }

        public long Bytes { get; private set; }

        public DateTimeOffset OldestAppendedAt
        {
            get
            {
                foreach (var (record, request) in _records)
                {
                    if (request is not null)
                    {
                        return record.AppendedAt;
                    }
                }

                return DateTimeOffset.MaxValue;
            }
        }

        public bool IsFull(DeliveryPolicy policy) => Events >= policy.MaxEvents || Bytes >= policy.MaxBytes;

        public void Add(SpoolBatch read)
        {
            foreach (var record in read.Records)
            {
                // The audit trail's consumer reads only the records that carry an audit record; the others only move its
                // cursor, and their payload is not kept.
                if (auditOnly && !SpoolEventCodec.HasAuditRecord(record.Payload.Span))
                {
                    _records.Enqueue((record with { Payload = default }, null));
                    continue;
                }

                var request = SpoolEventCodec.Decode(record.Payload);
                _records.Enqueue((record, request));
                Requests++;
                Events += request.Events.Count;
                Bytes += record.NextPosition - record.Position;
            }

            _readEnd = read.EndPosition;
        }

        // Takes records up to the policy's limits (at least one request; a request is never split).
        public SpoolDelivery Take(DeliveryPolicy policy)
        {
            // The batch is named after its first request, not after records skipped ahead of it: read again from an
            // older cursor, the same requests get the same id.
            var first = _records.Peek().Record;
            foreach (var (record, request) in _records)
            {
                if (request is not null)
                {
                    first = record;
                    break;
                }
            }

            var start = _records.Peek().Record.Position;
            var requests = new List<SpooledRequest>();
            var records = new List<SpoolRecord>();
            var events = new List<CollectedEvent>();
            long takenEvents = 0, takenBytes = 0;
            while (_records.TryPeek(out var next))
            {
                if (next.Request is { } request)
                {
                    var size = next.Record.NextPosition - next.Record.Position;
                    if (requests.Count > 0 && (takenEvents + request.Events.Count > policy.MaxEvents || takenBytes + size > policy.MaxBytes))
                    {
                        break;
                    }

                    requests.Add(request);
                    records.Add(next.Record);
                    events.AddRange(request.Events);
                    takenEvents += request.Events.Count;
                    takenBytes += size;
                    Requests--;
                    Events -= request.Events.Count;
                    Bytes -= size;
                }

                _records.Dequeue();
            }

            var end = _records.TryPeek(out var left) ? left.Record.Position : _readEnd;
            var batch = new EventBatch(BatchId(first.Position, first.AppendedAt), first.AppendedAt, events);
            return new SpoolDelivery(requests, batch, start, end) { Records = records };
        }
    }
}

/// <summary>What a consumer delivers at once: the requests of consecutive records, their events as one batch, and the positions they span.</summary>
internal sealed record SpoolDelivery(IReadOnlyList<SpooledRequest> Requests, EventBatch Batch, long StartPosition, long EndPosition)
{
    /// <summary>Gets the spool records of <see cref="Requests"/>, one per request, in the same order (what is parked).</summary>
    public IReadOnlyList<SpoolRecord> Records { get; init; } = [];

    /// <summary>One request alone, as its own batch: its id and time from its own record.</summary>
    public SpoolDelivery Single(int index)
    {
        var record = Records[index];
        var request = Requests[index];
        var batch = new EventBatch(SpoolConsumer.BatchId(record.Position, record.AppendedAt), record.AppendedAt, request.Events);
        return new SpoolDelivery([request], batch, record.Position, record.NextPosition) { Records = [record] };
    }

    /// <summary>Some of the requests, under the same batch id: what was stored when the others were parked.</summary>
    public SpoolDelivery Subset(IReadOnlyList<int> indexes)
    {
        if (indexes.Count == Requests.Count)
        {
            return this;
        }

        var requests = indexes.Select(i => Requests[i]).ToArray();
        var batch = new EventBatch(Batch.Id, Batch.CreatedAt, requests.SelectMany(r => r.Events).ToArray());
        return this with { Requests = requests, Batch = batch, Records = indexes.Select(i => Records[i]).ToArray() };
    }
}
