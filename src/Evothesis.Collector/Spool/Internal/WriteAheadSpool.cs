using System.Text.RegularExpressions;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging;
using Microsoft.Win32.SafeHandles;

namespace Evothesis.Collector.Spool.Internal;

/// <summary>
/// A local, append-only log of accepted requests that every sink reads from its own durable cursor. See
/// <see cref="SpoolFormat"/> for the layout on disk.
/// </summary>
/// <remarks>
/// <para>
/// <b>Group commit.</b> <see cref="Append(ReadOnlySpan{byte}, bool)"/> frames the record into an in-memory buffer and
/// returns at once with its position. One writer thread takes everything queued, writes it, flushes it (fsync),
/// completes those appends' shared task, and immediately takes what arrived meanwhile: every append that arrived
/// during one flush shares the next. The writer sleeps when nothing is queued; there is no timer.
/// </para>
/// <para>
/// <b>Bounds.</b> An append that would pass <see cref="SpoolOptions.MaxBytes"/>, <see cref="SpoolOptions.MaxPendingBytes"/>
/// or the free-disk floor is refused synchronously (<see cref="SpoolAppendStatus.Full"/>). A failed write or flush
/// fails the appends that were waiting for it and every append queued behind it, and appends are refused
/// (<see cref="SpoolAppendStatus.Unavailable"/>) for <see cref="SpoolOptions.RetryInterval"/>; the next append
/// after that rides a new attempt, which starts a fresh segment (a file whose flush failed is not trusted again).
/// </para>
/// <para>
/// <b>Recovery.</b> On open every segment is scanned. A torn tail (an incomplete or garbage last frame, or an
/// append whose records are not all there) is cut at the last whole append; it was never acknowledged. A record
/// that fails its checksum with more data after it (corruption of acknowledged data) ends its segment there: the
/// records before it are delivered, the rest of the file is left for inspection, counted and logged, and the
/// spool continues with the next segment (a new one, if it was the last).
/// </para>
/// <para>
/// <b>Consumers.</b> Named up front; each has a cursor (the position up to which it committed). Cursors that moved are
/// written to disk every <see cref="SpoolOptions.CheckpointInterval"/>, or at once by <see cref="FlushCheckpoints"/>:
/// the sinks' consumers write theirs after each delivery, because a batch read again gets the same id only when it
/// starts at the same record. A segment is deleted once every consumer's
/// written cursor is at or past its end and it is not the last segment (which keeps the positions going across a
/// restart). A consumer without a checkpoint starts at the oldest record present.
/// </para>
/// </remarks>
internal sealed partial class WriteAheadSpool : IAsyncDisposable
{
    private const int InitialBufferBytes = 64 * 1024;
    private const int KeptBufferBytes = 1024 * 1024;
    private const double DegradedFillRatio = 0.9;

    /// <summary>How long records no request waits for (<see cref="Batching.AckMode.Enqueued"/>) may wait for their fsync.</summary>
    /// <remarks>
    /// Group commit alone fsyncs as soon as the writer is free: at full load a thousand fsyncs a second, each a system
    /// call that costs CPU the requests need, when nobody waits for them. Records a request waits for (durable and
    /// committed modes, audited requests) are written at once as before and take the waiting ones along.
    /// </remarks>
    internal static readonly TimeSpan LazySyncDelay = TimeSpan.FromMilliseconds(10);

    // Waiting records are written at once past this many bytes, whatever their delay.
    private const int LazySyncBytes = 256 * 1024;

    private static readonly Task StoppedTask = RefusedTask("The spool is stopping.");
    private static readonly Task FullTask = RefusedTask("The spool is full.");
    private static readonly Task UnavailableTask = RefusedTask("The spool cannot be written.");

    private readonly string _path;
    private readonly long _maxBytes;
    private readonly long _segmentBytes;
    private readonly long _maxPendingBytes;
    private readonly long _minFreeDiskBytes;
    private readonly TimeSpan _retryInterval;
    private readonly TimeSpan _maxConsumerLag;
    private readonly ISpoolFileSystem _files;
    private readonly TimeProvider _time;
    private readonly SpoolMetrics _metrics;
    private readonly ILogger _logger;
    private readonly Lock _gate = new();
    private readonly Lock _housekeeping = new();
    private readonly Dictionary<string, ConsumerState> _consumers = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _wake = new(0);
    private readonly TaskCompletionSource _writerDone = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Thread _writer;
    private readonly ITimer _checkpointTimer;
    private readonly Func<ReadOnlySpan<byte>, int>? _countEvents;

    // Guarded by _gate: shared by appenders, the writer, readers and housekeeping.
    private readonly List<SpoolSegment> _segments = [];
    private SpoolState _state = SpoolState.Closed;
    private bool _stopRequested;
    private bool _recoveryRequested;
    private bool _writerIdle;

    // The writer waits for the delay of records no request waits for; only a waited-for append, a full buffer or a stop
    // wakes it early. Guarded by _gate.
    private bool _writerDozing;
    private bool _lastAppendFull;
    private DateTimeOffset _retryAt;
    private Exception? _lastError;
    private long _nextPosition;
    private long _durableEnd;
    private long _storedBytes;
    private long _pendingBytes;
    private long _freeDiskBytes = long.MaxValue;
    private PendingWrites _fill = new();
    private TaskCompletionSource _durableSignal = NewSignal();
    private TaskCompletionSource _stateChanged = NewSignal();
    private SpoolEventIndex _events = new();

    // Used only by the writer thread (and by recovery before it starts).
    private PendingWrites _spare = new();
    private SpoolSegment? _active;
    private SafeFileHandle? _activeFile;

    private WriteAheadSpool(
        string path,
        SpoolOptions options,
        IEnumerable<string> consumers,
        TimeProvider time,
        SpoolMetrics metrics,
        ILogger logger,
        ISpoolFileSystem files,
        Func<ReadOnlySpan<byte>, int>? countEvents)
    {
        _path = path;
        _countEvents = countEvents;
        _maxBytes = options.MaxBytes;
        _segmentBytes = options.SegmentBytes;
        _maxPendingBytes = options.MaxPendingBytes;
        _minFreeDiskBytes = options.MinFreeDiskBytes;
        _retryInterval = options.RetryInterval;
        _maxConsumerLag = options.MaxConsumerLag;
        _time = time;
        _metrics = metrics;
        _logger = logger;
        _files = files;
        foreach (var name in consumers)
        {
            if (!ConsumerName().IsMatch(name))
            {
                throw new ArgumentException(
                    $"The spool consumer name '{name}' must be 1 to 64 lower-case letters, digits, '.', '_' or '-', starting with a letter or digit.",
                    nameof(consumers));
            }

            if (!_consumers.TryAdd(name, new ConsumerState(name)))
            {
                throw new ArgumentException($"The spool consumer '{name}' is registered twice.", nameof(consumers));
            }
        }

        MaxRecordBytes = (int)Math.Min(int.MaxValue - SpoolFormat.FrameHeaderSize,
            Math.Min(_segmentBytes - SpoolFormat.SegmentHeaderSize, _maxPendingBytes) - SpoolFormat.FrameHeaderSize);
        _writer = new Thread(RunWriter) { IsBackground = true, Name = "Evothesis spool writer" };
        _checkpointTimer = time.CreateTimer(_ => Housekeep(), null, options.CheckpointInterval, options.CheckpointInterval);
    }

    private enum SpoolState
    {
        // Not recovered: positions are unknown until the folder can be scanned.
        Closed,
        Writable,
        Faulted,
    }

    /// <summary>Gets the spool folder.</summary>
    public string Path => _path;

    /// <summary>Gets the largest payload one record may carry.</summary>
    public int MaxRecordBytes { get; }

    /// <summary>Gets the registered consumers.</summary>
    public IReadOnlyCollection<string> Consumers => _consumers.Keys;

    /// <summary>Gets the position after the last record on disk: readers see every record before it.</summary>
    public long DurablePosition
    {
        get
        {
            lock (_gate)
            {
                return _durableEnd;
            }
        }
    }

    /// <summary>Gets the bytes counted against <see cref="SpoolOptions.MaxBytes"/>.</summary>
    public long TotalBytes
    {
        get
        {
            lock (_gate)
            {
                return _storedBytes + _pendingBytes;
            }
        }
    }

    /// <summary>Gets the number of segment files.</summary>
    public int SegmentCount
    {
        get
        {
            lock (_gate)
            {
                return _segments.Count;
            }
        }
    }

    /// <summary>Gets a value indicating whether <see cref="StopAsync"/> was called: consumers deliver what is left without waiting for more.</summary>
    public bool IsStopping
    {
        get
        {
            lock (_gate)
            {
                return _stopRequested;
            }
        }
    }

    /// <summary>Gets the file operations the spool writes through, for files kept beside it (parked records).</summary>
    internal ISpoolFileSystem Files => _files;

    /// <summary>Gets a task that completes the next time the spool becomes writable or unwritable.</summary>
    internal Task StateChanged
    {
        get
        {
            lock (_gate)
            {
                return _stateChanged.Task;
            }
        }
    }

    /// <summary>
    /// Opens (and recovers) the spool in <paramref name="path"/>, creating the folder when missing. A folder that
    /// cannot be read or created does not throw: the spool reports itself unhealthy, refuses appends, and tries
    /// again on an append after <see cref="SpoolOptions.RetryInterval"/>.
    /// </summary>
    /// <param name="path">The resolved spool folder.</param>
    /// <param name="options">Validated options; <see cref="SpoolOptions.Path"/> is not read.</param>
    /// <param name="consumers">Every consumer that must have a record before its segment is deleted.</param>
    /// <param name="time">The clock: append times, retries, checkpoint interval.</param>
    /// <param name="metrics">The spool's instruments.</param>
    /// <param name="logger">The logger.</param>
    /// <param name="files">The file operations; tests pass a double.</param>
    /// <param name="countEvents">
    /// How many events a record's payload holds, for the consumers' lag in events; <see langword="null"/> counts records.
    /// </param>
    public static WriteAheadSpool Open(
        string path,
        SpoolOptions options,
        IEnumerable<string> consumers,
        TimeProvider time,
        SpoolMetrics metrics,
        ILogger logger,
        ISpoolFileSystem? files = null,
        Func<ReadOnlySpan<byte>, int>? countEvents = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(consumers);
        ArgumentNullException.ThrowIfNull(time);
        ArgumentNullException.ThrowIfNull(metrics);
        ArgumentNullException.ThrowIfNull(logger);

        var spool = new WriteAheadSpool(path, options, consumers, time, metrics, logger, files ?? PhysicalSpoolFileSystem.Instance, countEvents);
        spool.TryRecover();
        metrics.Observe(spool);
        spool._writer.Start();
        return spool;
    }

    /// <summary>Appends one record. Never blocks on I/O; copies the payload.</summary>
    /// <param name="payload">The record.</param>
    /// <param name="waited">
    /// <see langword="false"/> when nobody waits for the record to be durable: its fsync may wait up to
    /// <see cref="LazySyncDelay"/> for others to share it. Consumers see it once it is durable either way.
    /// </param>
    /// <exception cref="ArgumentOutOfRangeException">The payload is longer than <see cref="MaxRecordBytes"/>.</exception>
    public SpoolAppendResult Append(ReadOnlySpan<byte> payload, bool waited = true)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(payload.Length, MaxRecordBytes, nameof(payload));
        var frameLength = SpoolFormat.FrameHeaderSize + payload.Length;
        var now = _time.GetUtcNow();
        lock (_gate)
        {
            var status = Admit(frameLength, now);
            if (status != SpoolAppendStatus.Accepted)
            {
                return Refuse(status);
            }

            var position = _nextPosition;
            var frame = _fill.Reserve(position, frameLength, records: 1);
            payload.CopyTo(frame[SpoolFormat.FrameHeaderSize..]);
            SpoolFormat.SealFrame(frame, continued: false, now.ToUnixTimeMilliseconds());
            _events.Add(position + frameLength, CountEvents(payload));
            return Accept(position, frameLength, waited);
        }
    }

    /// <summary>
    /// Appends several records as one: they get consecutive positions, are flushed together and, after a crash,
    /// are recovered all or none (the last of them marks the end of the append).
    /// </summary>
    /// <exception cref="ArgumentException">There are no payloads, or one is longer than <see cref="MaxRecordBytes"/>.</exception>
    public SpoolAppendResult Append(IReadOnlyList<ReadOnlyMemory<byte>> payloads)
    {
        ArgumentNullException.ThrowIfNull(payloads);
        if (payloads.Count == 0)
        {
            throw new ArgumentException("An append needs at least one record.", nameof(payloads));
        }

        long total = 0;
        for (var i = 0; i < payloads.Count; i++)
        {
            ArgumentOutOfRangeException.ThrowIfGreaterThan(payloads[i].Length, MaxRecordBytes, nameof(payloads));
            total += SpoolFormat.FrameHeaderSize + payloads[i].Length;
        }

        if (total > _maxPendingBytes)
        {
            throw new ArgumentException($"The append's {total} bytes are more than MaxPendingBytes ({_maxPendingBytes}).", nameof(payloads));
        }

        var frameLength = (int)total;
        var now = _time.GetUtcNow();
        var appendedAt = now.ToUnixTimeMilliseconds();
        lock (_gate)
        {
            var status = Admit(frameLength, now);
            if (status != SpoolAppendStatus.Accepted)
            {
                return Refuse(status);
            }

            var position = _nextPosition;
            var frames = _fill.Reserve(position, frameLength, payloads.Count);
            for (var i = 0; i < payloads.Count; i++)
            {
                var frame = frames[..(SpoolFormat.FrameHeaderSize + payloads[i].Length)];
                payloads[i].Span.CopyTo(frame[SpoolFormat.FrameHeaderSize..]);
                SpoolFormat.SealFrame(frame, continued: i < payloads.Count - 1, appendedAt);
                frames = frames[frame.Length..];
                _events.Add(position + frameLength - frames.Length, CountEvents(payloads[i].Span));
            }

            return Accept(position, frameLength);
        }
    }

    /// <summary>Opens a reader at the consumer's committed cursor.</summary>
    /// <exception cref="ArgumentException">The consumer is not registered.</exception>
    public SpoolReader OpenReader(string consumer)
    {
        var state = GetConsumer(consumer);
        lock (_gate)
        {
            return new SpoolReader(this, consumer, state.Committed);
        }
    }

    /// <summary>
    /// Records that <paramref name="consumer"/> has delivered every record before <paramref name="position"/>.
    /// A position at or before its cursor is ignored. Written to disk within <see cref="SpoolOptions.CheckpointInterval"/>.
    /// </summary>
    /// <exception cref="ArgumentException">The consumer is not registered.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The position is past the durable end.</exception>
    public void Commit(string consumer, long position)
    {
        var state = GetConsumer(consumer);
        lock (_gate)
        {
            if (position > _durableEnd)
            {
                throw new ArgumentOutOfRangeException(
                    nameof(position), position, $"Consumer '{consumer}' cannot commit past the spool's durable end ({_durableEnd}).");
            }

            if (position > state.Committed)
            {
                state.Committed = position;
            }
        }
    }

    /// <summary>Gets the position up to which a consumer has committed.</summary>
    public long GetCommittedPosition(string consumer)
    {
        var state = GetConsumer(consumer);
        lock (_gate)
        {
            return state.Committed;
        }
    }

    /// <summary>Gets every consumer's lag; reads one record header per consumer whose cursor moved.</summary>
    public IReadOnlyList<SpoolConsumerLag> GetConsumerLags()
    {
        var now = _time.GetUtcNow();
        var lags = new List<SpoolConsumerLag>(_consumers.Count);
        foreach (var state in _consumers.Values)
        {
            long committed, durableEnd, cachedFor, cachedAt, events;
            SpoolSegment? segment;
            lock (_gate)
            {
                committed = state.Committed;
                durableEnd = _durableEnd;
                events = _events.CountBetween(committed, durableEnd);
                cachedFor = state.AgeCursor;
                cachedAt = state.AgeAppendedAt;
                segment = committed < durableEnd ? FindReadable(ref committed) : null;
            }

            var age = TimeSpan.Zero;
            if (segment is not null)
            {
                if (cachedFor != committed)
                {
                    cachedAt = ReadAppendTime(segment, committed);
                    lock (_gate)
                    {
                        state.AgeCursor = committed;
                        state.AgeAppendedAt = cachedAt;
                    }
                }

                age = cachedAt == long.MinValue ? TimeSpan.Zero : now - DateTimeOffset.FromUnixTimeMilliseconds(cachedAt);
            }

            lags.Add(new SpoolConsumerLag(state.Name, committed, Math.Max(0, durableEnd - committed), events, age < TimeSpan.Zero ? TimeSpan.Zero : age));
        }

        return lags;
    }

    /// <summary>Gets the spool's state for a health check.</summary>
    public SpoolHealth GetHealth()
    {
        var lags = GetConsumerLags();
        lock (_gate)
        {
            var bytes = _storedBytes + _pendingBytes;
            var (status, description) = (_state, _stopRequested) switch
            {
                (_, true) => (HealthStatus.Unhealthy, "The spool has stopped."),
                (SpoolState.Closed, _) => (HealthStatus.Unhealthy, $"The spool folder cannot be opened: {_lastError?.Message}"),
                (SpoolState.Faulted, _) => (HealthStatus.Unhealthy, $"The spool folder cannot be written: {_lastError?.Message}"),
                _ when bytes >= _maxBytes * DegradedFillRatio =>
                    (HealthStatus.Degraded, $"The spool holds {bytes} of its {_maxBytes} bytes: requests are refused when it is full."),
                _ when _lastAppendFull =>
                    (HealthStatus.Degraded, $"The spool is full (it holds {bytes} of {_maxBytes} bytes, or its disk is near {_minFreeDiskBytes} bytes free): requests are refused."),
                _ when lags.FirstOrDefault(l => l.OldestAge > _maxConsumerLag) is { Consumer: not null } lag =>
                    (HealthStatus.Degraded, $"Spool consumer '{lag.Consumer}' is {lag.OldestAge} behind (more than {_maxConsumerLag})."),
                _ => (HealthStatus.Healthy, "The spool is writable and its consumers keep up."),
            };

            return new SpoolHealth(status, description, bytes, _maxBytes, _segments.Count, _durableEnd, lags, _lastError);
        }
    }

    /// <summary>
    /// Writes the cursors that moved since they were last written. Called every checkpoint interval and on stop, and by
    /// a consumer after each delivery for its own cursor.
    /// </summary>
    /// <param name="consumer">The one consumer whose cursor to write; <see langword="null"/> for all of them.</param>
    public void FlushCheckpoints(string? consumer = null)
    {
        lock (_housekeeping)
        {
            var moved = new List<(ConsumerState State, long Position)>();
            lock (_gate)
            {
                foreach (var state in _consumers.Values)
                {
                    if (state.Committed != state.Checkpointed && (consumer is null || state.Name == consumer))
                    {
                        moved.Add((state, state.Committed));
                    }
                }
            }

            if (moved.Count == 0)
            {
                return;
            }

            var written = new List<(ConsumerState State, long Position)>(moved.Count);
            Span<byte> content = stackalloc byte[SpoolFormat.CheckpointSize];
            foreach (var (state, position) in moved)
            {
                var target = CheckpointPath(state.Name);
                var temporary = target + SpoolFormat.TemporaryExtension;
                try
                {
                    SpoolFormat.WriteCheckpoint(content, position);
                    using (var file = _files.OpenForWrite(temporary, FileMode.Create))
                    {
                        _files.Write(file, content, 0);
                        _files.Flush(file);
                    }

                    _files.Move(temporary, target);
                    written.Add((state, position));
                }
                catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
                {
                    SpoolLog.CheckpointFailed(_logger, exception, state.Name);
                }
            }

            if (written.Count == 0)
            {
                return;
            }

            try
            {
                _files.FlushDirectory(_path);
            }
            catch (IOException exception)
            {
                // The renames may not be durable: keep the old positions so that nothing is deleted on their account.
                SpoolLog.CheckpointFailed(_logger, exception, string.Join(", ", written.Select(w => w.State.Name)));
                return;
            }

            lock (_gate)
            {
                foreach (var (state, position) in written)
                {
                    state.Checkpointed = position;
                }
            }
        }
    }

    /// <summary>Deletes the segments every consumer's written cursor has passed, except the last one.</summary>
    public void DeleteConsumedSegments()
    {
        lock (_housekeeping)
        {
            var deleted = new List<SpoolSegment>();
            lock (_gate)
            {
                if (_state == SpoolState.Closed)
                {
                    return;
                }

                var floor = long.MaxValue;
                foreach (var state in _consumers.Values)
                {
                    floor = Math.Min(floor, state.Checkpointed);
                }

                // Every consumer is past these records: their event counts are no longer needed.
                var committed = long.MaxValue;
                foreach (var state in _consumers.Values)
                {
                    committed = Math.Min(committed, state.Committed);
                }

                _events.DropThrough(committed);

                // The last segment is never deleted: the writer appends to it, and it carries the positions across a restart.
                while (_segments.Count > 1 && _segments[0].End <= floor)
                {
                    var segment = _segments[0];
                    _segments.RemoveAt(0);
                    _storedBytes -= segment.FileBytes;
                    deleted.Add(segment);
                }
            }

            foreach (var segment in deleted)
            {
                try
                {
                    _files.Delete(segment.Path);
                    SpoolLog.SegmentDeleted(_logger, segment.FileName, segment.End);
                }
                catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
                {
                    // Its bytes no longer count: a restart finds it again and deletes it then.
                    SpoolLog.SegmentDeleteFailed(_logger, exception, segment.FileName);
                }
            }
        }
    }

    /// <summary>
    /// Stops accepting appends, flushes every accepted record and writes the cursors. Readers still get the
    /// records on disk; then they get empty batches. Idempotent.
    /// </summary>
    public async Task StopAsync()
    {
        lock (_gate)
        {
            if (!_stopRequested)
            {
                _stopRequested = true;
                WakeWriter();
            }
        }

        await _writerDone.Task.ConfigureAwait(false);
        await _checkpointTimer.DisposeAsync().ConfigureAwait(false);
        FlushCheckpoints();
        TaskCompletionSource signal;
        lock (_gate)
        {
            signal = _durableSignal;
        }

        signal.TrySetResult();
    }

    /// <summary>Stops the spool (see <see cref="StopAsync"/>) and writes cursors committed since.</summary>
    public async ValueTask DisposeAsync()
    {
        await StopAsync().ConfigureAwait(false);
        FlushCheckpoints();
        if (_writerDone.Task.IsCompleted)
        {
            SpoolLog.Stopped(_logger, DurablePosition, TotalBytes);
        }
    }

    // Finds the segment holding the first readable record at or after position, moving position over gaps (deleted
    // or skipped data). Null when there is nothing to read yet. Called under _gate.
    //
    // A gap is jumped only to a segment that already holds durable records: while the writer moves on to a new segment
    // in the middle of a write, the new segment is listed before the previous one's last records are counted, and a
    // reader jumping to it then would skip those records for good.
    internal SpoolSegment? FindReadable(ref long position)
    {
        if (_state == SpoolState.Closed)
        {
            return null;
        }

        foreach (var segment in _segments)
        {
            if (position < segment.Base)
            {
                if (segment.Base >= _durableEnd)
                {
                    return null;
                }

                position = segment.Base;
            }

            if (position < segment.End && position < _durableEnd)
            {
                return segment;
            }
        }

        return null;
    }

    // For readers: what to read next, or the signal to wait for.
    internal ReadView Locate(long position)
    {
        lock (_gate)
        {
            var segment = FindReadable(ref position);
            return segment is null
                ? new ReadView(position, null, 0, _durableSignal.Task, _stopRequested && _writerDone.Task.IsCompleted)
                : new ReadView(position, segment, Math.Min(segment.End, _durableEnd), _durableSignal.Task, false);
        }
    }

    internal void CorruptRead(string consumer, SpoolSegment segment, long position, long skipped)
    {
        SpoolLog.CorruptRead(_logger, consumer, position, segment.FileName);
        _metrics.Truncated(skipped, SpoolMetrics.Corrupt);
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    private static Task RefusedTask(string message)
    {
        var task = Task.FromException(new InvalidOperationException(message));
        _ = task.Exception; // Observed: a caller that checks the status and drops the task raises nothing.
        return task;
    }

    private static void ReadExactly(SafeFileHandle file, Span<byte> buffer, long fileOffset)
    {
        while (!buffer.IsEmpty)
        {
            var read = RandomAccess.Read(file, buffer, fileOffset);
            if (read == 0)
            {
                throw new EndOfStreamException("The spool segment ended before the record did.");
            }

            buffer = buffer[read..];
            fileOffset += read;
        }
    }

    private int CountEvents(ReadOnlySpan<byte> payload) => _countEvents is null ? 1 : _countEvents(payload);

    [GeneratedRegex("^[a-z0-9][a-z0-9._-]{0,63}$")]
    private static partial Regex ConsumerName();

    private ConsumerState GetConsumer(string consumer)
    {
        ArgumentNullException.ThrowIfNull(consumer);
        return _consumers.TryGetValue(consumer, out var state)
            ? state
            : throw new ArgumentException($"'{consumer}' is not a registered spool consumer.", nameof(consumer));
    }

    private string CheckpointPath(string consumer) => System.IO.Path.Combine(_path, consumer + SpoolFormat.CheckpointExtension);

    // Called under _gate.
    private SpoolAppendStatus Admit(int frameLength, DateTimeOffset now)
    {
        if (_stopRequested)
        {
            return SpoolAppendStatus.Stopped;
        }

        if (_state == SpoolState.Closed)
        {
            if (now >= _retryAt && !_recoveryRequested)
            {
                _recoveryRequested = true;
                WakeWriter();
            }

            return SpoolAppendStatus.Unavailable;
        }

        if (_state == SpoolState.Faulted && now < _retryAt)
        {
            return SpoolAppendStatus.Unavailable;
        }

        if (_pendingBytes + frameLength > _maxPendingBytes
            || _storedBytes + _pendingBytes + frameLength > _maxBytes
            || (_minFreeDiskBytes > 0 && _freeDiskBytes - _pendingBytes - frameLength < _minFreeDiskBytes))
        {
            _lastAppendFull = true;
            return SpoolAppendStatus.Full;
        }

        _lastAppendFull = false;
        return SpoolAppendStatus.Accepted;
    }

    private SpoolAppendResult Refuse(SpoolAppendStatus status)
    {
        var (reason, task) = status switch
        {
            SpoolAppendStatus.Full => (SpoolMetrics.Full, FullTask),
            SpoolAppendStatus.Stopped => (SpoolMetrics.Stopped, StoppedTask),
            _ => (SpoolMetrics.Unavailable, UnavailableTask),
        };

        _metrics.Refused(reason);
        return new SpoolAppendResult(status, -1, -1, task);
    }

    // Called under _gate once the frames are in _fill.
    private SpoolAppendResult Accept(long position, int frameLength, bool waited = true)
    {
        _nextPosition = position + frameLength;
        _pendingBytes += frameLength;
        if (waited)
        {
            _fill.Waited = true;
        }
        else if (_fill.LazySince == 0)
        {
            _fill.LazySince = Environment.TickCount64;
        }

        WakeWriter(urgent: waited || _fill.Length >= LazySyncBytes);
        return new SpoolAppendResult(SpoolAppendStatus.Accepted, position, _nextPosition, _fill.Completion.Task);
    }

    // Called under _gate.
    private void WakeWriter(bool urgent = true)
    {
        if (_writerIdle || (urgent && _writerDozing))
        {
            _writerIdle = false;
            _writerDozing = false;
            _wake.Release();
        }
    }

    // Called under _gate.
    private void SetState(SpoolState state)
    {
        if (_state != state)
        {
            _state = state;
            var changed = _stateChanged;
            _stateChanged = NewSignal();
            changed.TrySetResult();
        }
    }

    private void RunWriter()
    {
        try
        {
            while (true)
            {
                PendingWrites? batch = null;
                var recover = false;
                var doze = 0L;
                lock (_gate)
                {
                    if (_recoveryRequested)
                    {
                        _recoveryRequested = false;
                        recover = true;
                    }
                    else if (_fill.Appends.Count > 0
                        && !_fill.Waited
                        && !_stopRequested
                        && _fill.Length < LazySyncBytes
                        && (doze = _fill.LazySince + (long)LazySyncDelay.TotalMilliseconds - Environment.TickCount64) > 0)
                    {
                        // Nobody waits for these records yet: let more join their fsync.
                        _writerDozing = true;
                    }
                    else if (_fill.Appends.Count > 0)
                    {
                        doze = 0;
                        batch = _fill;
                        _fill = _spare;
                    }
                    else if (_stopRequested)
                    {
                        break;
                    }
                    else
                    {
                        _writerIdle = true;
                    }
                }

                if (recover)
                {
                    TryRecover();
                }
                else if (doze > 0)
                {
                    _wake.Wait(TimeSpan.FromMilliseconds(doze));
                    lock (_gate)
                    {
                        _writerDozing = false;
                    }
                }
                else if (batch is null)
                {
                    _wake.Wait();
                }
                else
                {
                    WriteBatch(batch);
                    batch.Reset();
                    _spare = batch;
                }
            }
        }
        catch (Exception exception)
        {
            SpoolLog.WriterCrashed(_logger, exception);
            lock (_gate)
            {
                _lastError = exception;
                _stopRequested = true;
                _fill.Completion.TrySetException(new IOException("The spool writer failed.", exception));
                SetState(SpoolState.Faulted);
            }
        }
        finally
        {
            CloseActive();
            _writerDone.TrySetResult();
        }
    }

    private void WriteBatch(PendingWrites batch)
    {
        var started = _time.GetTimestamp();
        var touched = new List<SpoolSegment>(2);
        try
        {
            EnsureActive(batch.Appends[0].Position);
            touched.Add(_active!);
            var runOffset = batch.Appends[0].Offset;
            var runLength = 0;
            foreach (var append in batch.Appends)
            {
                var written = append.Position - _active!.Base;
                if (written > 0 && SpoolFormat.SegmentHeaderSize + written + append.Length > _segmentBytes)
                {
                    WriteRun(batch, runOffset, runLength, append.Position - runLength);
                    _files.Flush(_activeFile!);
                    CloseActive();
                    CreateSegment(append.Position);
                    touched.Add(_active!);
                    runOffset = append.Offset;
                    runLength = 0;
                }

                runLength += append.Length;
            }

            var end = batch.Appends[0].Position + batch.Length;
            WriteRun(batch, runOffset, runLength, end - runLength);
            _files.Flush(_activeFile!);
            var elapsed = _time.GetElapsedTime(started);
            var free = _minFreeDiskBytes > 0 ? _files.GetAvailableFreeSpace(_path) : long.MaxValue;

            TaskCompletionSource signal;
            var recovered = false;
            lock (_gate)
            {
                foreach (var segment in touched)
                {
                    segment.End = segment == _active ? end : touched[touched.IndexOf(segment) + 1].Base;
                    var fileBytes = SpoolFormat.SegmentHeaderSize + (segment.End - segment.Base);
                    _storedBytes += fileBytes - segment.FileBytes;
                    segment.FileBytes = fileBytes;
                }

                _pendingBytes -= batch.Length;
                _durableEnd = end;
                _freeDiskBytes = free;
                recovered = _state == SpoolState.Faulted;
                if (recovered)
                {
                    _lastError = null;
                    SetState(SpoolState.Writable);
                }

                signal = _durableSignal;
                _durableSignal = NewSignal();
            }

            if (recovered)
            {
                SpoolLog.Writable(_logger, _path);
            }

            _metrics.Flushed(batch.Records, elapsed);
            batch.Completion.TrySetResult();
            signal.TrySetResult();
        }
        catch (Exception exception)
        {
            Fault(batch, exception);
        }
    }

    private void WriteRun(PendingWrites batch, int offset, int length, long position)
    {
        if (length > 0)
        {
            _files.Write(_activeFile!, batch.Buffer.AsSpan(offset, length), SpoolFormat.SegmentHeaderSize + (position - _active!.Base));
        }
    }

    private void EnsureActive(long position)
    {
        if (_active is { Sealed: false } && _active.End == position)
        {
            _activeFile ??= _files.OpenForWrite(_active.Path, FileMode.Open);
            return;
        }

        CloseActive();
        CreateSegment(position);
    }

    private void CreateSegment(long basePosition)
    {
        _files.CreateDirectory(_path);
        var path = System.IO.Path.Combine(_path, SpoolFormat.SegmentFileName(basePosition));
        lock (_gate)
        {
            // Only a segment without records can share the base (one created just before a failed write).
            var stale = _segments.FindIndex(s => s.Base == basePosition);
            if (stale >= 0)
            {
                _storedBytes -= _segments[stale].FileBytes;
                _segments.RemoveAt(stale);
            }
        }

        var file = _files.OpenForWrite(path, FileMode.Create);
        try
        {
            Span<byte> header = stackalloc byte[SpoolFormat.SegmentHeaderSize];
            SpoolFormat.WriteSegmentHeader(header, basePosition);
            _files.Write(file, header, 0);
            _files.Flush(file);
            _files.FlushDirectory(_path);
        }
        catch
        {
            file.Dispose();
            throw;
        }

        var segment = new SpoolSegment(basePosition, path);
        lock (_gate)
        {
            _segments.Add(segment);
            _storedBytes += segment.FileBytes;
        }

        _active = segment;
        _activeFile = file;
    }

    private void CloseActive()
    {
        _activeFile?.Dispose();
        _activeFile = null;
        _active = null;
    }

    private void Fault(PendingWrites batch, Exception exception)
    {
        _metrics.WriteFailed();
        var failed = new List<TaskCompletionSource> { batch.Completion };
        long failedRecords = batch.Records;
        var sealedSegment = _active;
        lock (_gate)
        {
            // Appends queued behind the failed batch were given the positions after it: they fail too, so that
            // positions restart at the durable end.
            if (_fill.Appends.Count > 0)
            {
                failed.Add(_fill.Completion);
                failedRecords += _fill.Records;
                _fill.Reset();
            }

            _pendingBytes = 0;
            _nextPosition = _durableEnd;
            _events.TruncateAfter(_durableEnd);
            _lastError = exception;
            _retryAt = _time.GetUtcNow() + _retryInterval;
            if (sealedSegment is not null)
            {
                sealedSegment.Sealed = true;
            }

            SetState(SpoolState.Faulted);
        }

        // A file whose write or flush failed is not trusted again: cut what was not acknowledged if possible (a
        // restart cuts it otherwise) and continue in a new segment.
        if (sealedSegment is not null && _activeFile is not null)
        {
            try
            {
                _files.SetLength(_activeFile, SpoolFormat.SegmentHeaderSize + (sealedSegment.End - sealedSegment.Base));
                _files.Flush(_activeFile);
            }
            catch (Exception truncation) when (truncation is IOException or UnauthorizedAccessException)
            {
                _ = truncation;
            }
        }

        CloseActive();
        SpoolLog.WriteFailed(_logger, exception, _path, _retryInterval, failedRecords);
        var error = new IOException($"The spool could not write to '{_path}': {exception.Message}", exception);
        foreach (var completion in failed)
        {
            completion.TrySetException(error);
        }
    }

    private long ReadAppendTime(SpoolSegment segment, long position)
    {
        try
        {
            using var file = File.OpenHandle(segment.Path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            Span<byte> header = stackalloc byte[SpoolFormat.FrameHeaderSize];
            ReadExactly(file, header, SpoolFormat.SegmentHeaderSize + (position - segment.Base));
            return SpoolFormat.ReadFrameHeader(header).AppendedAtMilliseconds;
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            return long.MinValue;
        }
    }

    private void Housekeep()
    {
        try
        {
            FlushCheckpoints();
            DeleteConsumedSegments();
        }
        catch (Exception exception)
        {
            // A timer callback that throws would end the process; the next tick tries again.
            SpoolLog.CheckpointFailed(_logger, exception, "*");
        }
    }

    private void TryRecover()
    {
        try
        {
            Recover();
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            SpoolLog.OpenFailed(_logger, exception, _path);
            lock (_gate)
            {
                _lastError = exception;
                _retryAt = _time.GetUtcNow() + _retryInterval;
                SetState(SpoolState.Closed);
            }
        }
    }

    internal sealed class ConsumerState(string name)
    {
        public string Name { get; } = name;

        // Guarded by the spool's lock.
        public long Committed { get; set; }

        public long Checkpointed { get; set; }

        public long AgeCursor { get; set; } = -1;

        public long AgeAppendedAt { get; set; }
    }

    // The records accepted and not yet written: one buffer of frames, the appends in it, and the task they share.
    private sealed class PendingWrites
    {
        public byte[] Buffer { get; private set; } = new byte[InitialBufferBytes];

        public int Length { get; private set; }

        public int Records { get; private set; }

        public List<PendingAppend> Appends { get; } = [];

        public TaskCompletionSource Completion { get; private set; } = NewSignal();

        // Whether a request waits for these records to be durable.
        public bool Waited { get; set; }

        // When the first record nobody waits for joined (Environment.TickCount64), 0 when none did.
        public long LazySince { get; set; }

        public Span<byte> Reserve(long position, int length, int records)
        {
            if (Buffer.Length - Length < length)
            {
                var grown = new byte[Math.Max(Buffer.Length * 2L, (long)Length + length)];
                Buffer.AsSpan(0, Length).CopyTo(grown);
                Buffer = grown;
            }

            Appends.Add(new PendingAppend(position, Length, length));
            var span = Buffer.AsSpan(Length, length);
            Length += length;
            Records += records;
            return span;
        }

        public void Reset()
        {
            Length = 0;
            Records = 0;
            Waited = false;
            LazySince = 0;
            Appends.Clear();
            Completion = NewSignal();
            if (Buffer.Length > KeptBufferBytes)
            {
                Buffer = new byte[InitialBufferBytes];
            }
        }
    }

    private readonly record struct PendingAppend(long Position, int Offset, int Length);
}

/// <summary>Where a reader goes next.</summary>
internal readonly record struct ReadView(long Position, SpoolSegment? Segment, long ReadEnd, Task Signal, bool Stopped);
