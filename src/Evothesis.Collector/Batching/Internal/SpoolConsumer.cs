using System.Diagnostics;
using Evothesis.Collector.Diagnostics;
using Evothesis.Collector.Events;
using Evothesis.Collector.Spool.Internal;
using Microsoft.Extensions.Logging;

namespace Evothesis.Collector.Batching.Internal;

/// <summary>
/// Delivers the spool's records to one destination (a sink, or the audit trail) from its own cursor: reads what is on
/// disk, in batches of up to <see cref="BatchingOptions.BatchSize"/> events, writes each batch, retries it with backoff
/// until it is written, then commits the cursor. A destination that is down only makes its own lag grow.
/// </summary>
/// <remarks>
/// A batch's id and creation time come from its first record (its spool position and append time), so a batch read
/// again after a crash names the same objects: an object store overwrites them instead of adding twins, and
/// PostgreSQL finds the same row ids. All fields are used only by the consumer's own loop, except the committed
/// position and the failure state, which health checks read.
/// </remarks>
internal sealed class SpoolConsumer
{
    // The most payload bytes read at once: a batch never holds more than this much of the spool in memory.
    private const int MaxReadBytes = 16 * 1024 * 1024;

    private readonly WriteAheadSpool _spool;
    private readonly Func<SpoolDelivery, CancellationToken, Task> _deliver;
    private readonly Action<SpoolDelivery>? _delivered;
    private readonly BatchingOptions _options;
    private readonly RetryBackoff _backoff;
    private readonly TimeSpan _deliveryDelay;
    private readonly TimeProvider _time;
    private readonly CollectorMetrics _metrics;
    private readonly ILogger _logger;

    // Written by the loop, read by health checks.
    private volatile bool _failing;
    private long _committed;

    // Others waiting for this consumer to pass a position (the sinks, for the audit trail); guarded by itself.
    private readonly List<(long Position, TaskCompletionSource Reached)> _waiters = [];

    public SpoolConsumer(
        string name,
        string destination,
        WriteAheadSpool spool,
        Func<SpoolDelivery, CancellationToken, Task> deliver,
        Action<SpoolDelivery>? delivered,
        BatchingOptions options,
        TimeProvider time,
        CollectorMetrics metrics,
        ILogger logger)
    {
        Name = name;
        Destination = destination;
        _spool = spool;
        _deliver = deliver;
        _delivered = delivered;
        _options = options;
        _backoff = new RetryBackoff(options.RetryBaseDelay, options.RetryMaxDelay);
        _deliveryDelay = options.AckMode == AckMode.Committed ? TimeSpan.Zero : options.DeliveryDelay;
        _time = time;
        _metrics = metrics;
        _logger = logger;
        _committed = spool.GetCommittedPosition(name);
    }

    /// <summary>Gets the consumer's name in the spool (its checkpoint file).</summary>
    public string Name { get; }

    /// <summary>Gets or sets a value indicating whether the consumer delivers only the requests' audit records.</summary>
    public bool AuditOnly { get; init; }

    /// <summary>Gets the name of the destination, for logs and metrics.</summary>
    public string Destination { get; }

    /// <summary>Gets a value indicating whether the most recent delivery attempt failed.</summary>
    public bool IsFailing => _failing;

    /// <summary>Gets the position up to which every record is delivered.</summary>
    public long Committed => Interlocked.Read(ref _committed);

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

    /// <summary>Delivers records until <paramref name="stopping"/> fires, or the spool has stopped and every record is delivered.</summary>
    public async Task RunAsync(CancellationToken stopping)
    {
        using var reader = _spool.OpenReader(Name);
        var random = new Random();
        while (!stopping.IsCancellationRequested)
        {
            SpoolDelivery? delivery;
            try
            {
                delivery = await ReadAsync(reader, stopping).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                return;
            }

            if (delivery is null)
            {
                // The spool has stopped and this consumer has every record.
                return;
            }

            for (var attempt = 1; ; attempt++)
            {
                try
                {
                    await DeliverAsync(delivery, stopping).ConfigureAwait(false);
                    break;
                }
                catch (OperationCanceledException) when (stopping.IsCancellationRequested)
                {
                    // Shutdown: the records stay in the spool for the next start.
                    return;
                }
                catch (Exception ex)
                {
                    _failing = true;
                    var delay = _backoff.Delay(attempt, random.NextDouble());
                    _metrics.DeliveryRetried(Destination);
                    if (attempt == 1 || attempt % 10 == 0)
                    {
                        BatchingLog.DeliveryFailed(_logger, ex, Destination, delivery.Batch.Count, attempt, delay);
                    }

                    try
                    {
                        await Task.Delay(delay, _time, stopping).ConfigureAwait(false);
                    }
                    catch (OperationCanceledException)
                    {
                        return;
                    }
                }
            }

            if (_failing)
            {
                _failing = false;
                BatchingLog.DeliveryRecovered(_logger, Destination);
            }

            _spool.Commit(Name, delivery.EndPosition);
            Interlocked.Exchange(ref _committed, delivery.EndPosition);
            ReleaseWaiters();
            _delivered?.Invoke(delivery);
            CommittedTo?.Invoke(this, delivery.EndPosition);

            // Before the next delivery: after a crash only this batch is read again, from the same first record, so it
            // gets the same id and holds at least the same records. With a lazily written cursor, the batches since it
            // would be read again with other boundaries, so other ids and object keys: stored twice.
            _spool.FlushCheckpoints(Name);

            // A small batch means the consumer is keeping up: let the next one fill a little instead of writing one
            // object per spool fsync.
            if (_deliveryDelay > TimeSpan.Zero && delivery.Batch.Count < _options.BatchSize)
            {
                try
                {
                    await Task.Delay(_deliveryDelay, _time, stopping).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
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

    private async Task DeliverAsync(SpoolDelivery delivery, CancellationToken stopping)
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

    // Reads records until the batch holds BatchSize events (a request is never split), then moves the reader back to
    // the first record left out.
    private async Task<SpoolDelivery?> ReadAsync(SpoolReader reader, CancellationToken stopping)
    {
        var read = await reader.ReadAsync(_options.BatchSize, MaxReadBytes, stopping).ConfigureAwait(false);
        if (read.Count == 0)
        {
            return null;
        }

        var requests = new List<SpooledRequest>(read.Count);
        var events = new List<CollectedEvent>();
        var end = read.EndPosition;
        foreach (var record in read.Records)
        {
            // The audit trail's consumer reads only the records that carry an audit record.
            if (AuditOnly && !SpoolEventCodec.HasAuditRecord(record.Payload.Span))
            {
                continue;
            }

            var request = SpoolEventCodec.Decode(record.Payload);
            if (requests.Count > 0 && events.Count + request.Events.Count > _options.BatchSize)
            {
                end = record.Position;
                break;
            }

            requests.Add(request);
            events.AddRange(request.Events);
        }

        if (end != read.EndPosition)
        {
            reader.Seek(end);
        }

        var first = read.Records[0];
        var batch = new EventBatch(BatchId(first.Position, first.AppendedAt), first.AppendedAt, events);
        return new SpoolDelivery(requests, batch, first.Position, end);
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
}

/// <summary>What a consumer delivers at once: the requests of consecutive records, their events as one batch, and the positions they span.</summary>
internal sealed record SpoolDelivery(IReadOnlyList<SpooledRequest> Requests, EventBatch Batch, long StartPosition, long EndPosition);
