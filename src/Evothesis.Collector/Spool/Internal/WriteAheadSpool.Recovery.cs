namespace Evothesis.Collector.Spool.Internal;

internal sealed partial class WriteAheadSpool
{
    // Scans the folder and publishes what it found. Runs before the writer starts, or on the writer thread while
    // appends are refused, so the writer-only fields are safe to set.
    private void Recover()
    {
        _files.CreateDirectory(_path);
        foreach (var leftover in Directory.EnumerateFiles(_path, "*" + SpoolFormat.TemporaryExtension))
        {
            _files.Delete(leftover);
        }

        var checkpoints = _consumers.Keys.ToDictionary(name => name, ReadCheckpoint, StringComparer.Ordinal);
        var cursors = checkpoints.Where(c => c.Value.HasValue).ToDictionary(c => c.Key, c => c.Value!.Value, StringComparer.Ordinal);
        var files = new List<(string Path, long Base)>();
        foreach (var file in Directory.EnumerateFiles(_path, "*" + SpoolFormat.SegmentExtension))
        {
            if (SpoolFormat.TryParseSegmentFileName(System.IO.Path.GetFileName(file), out var basePosition))
            {
                files.Add((file, basePosition));
            }
        }

        files.Sort((a, b) => a.Base.CompareTo(b.Base));
        var segments = new List<SpoolSegment>(files.Count);
        var events = new SpoolEventIndex();
        var directoryChanged = false;
        long highWater = 0;
        for (var i = 0; i < files.Count; i++)
        {
            var (path, basePosition) = files[i];
            highWater = Math.Max(highWater, basePosition);
            var limit = i + 1 < files.Count ? files[i + 1].Base - basePosition : long.MaxValue;
            var segment = RecoverSegment(path, basePosition, limit, isLast: i == files.Count - 1, cursors, events, ref directoryChanged);
            if (segment is not null)
            {
                segments.Add(segment);
            }
        }

        if (directoryChanged)
        {
            _files.FlushDirectory(_path);
        }

        var next = highWater;
        if (segments.Count > 0)
        {
            var last = segments[^1];
            next = Math.Max(next, last.Sealed ? last.Base + (last.FileBytes - SpoolFormat.SegmentHeaderSize) : last.End);
        }

        var oldest = segments.Count > 0 ? segments[0].Base : next;
        var free = _minFreeDiskBytes > 0 ? _files.GetAvailableFreeSpace(_path) : long.MaxValue;
        var active = segments.Count > 0 && !segments[^1].Sealed ? segments[^1] : null;

        TaskCompletionSource signal;
        lock (_gate)
        {
            foreach (var state in _consumers.Values)
            {
                var checkpoint = checkpoints[state.Name];
                var cursor = cursors.TryGetValue(state.Name, out var snapped) ? snapped : oldest;
                if (cursor > next)
                {
                    cursor = next;
                }

                if (checkpoint is { } written && written != cursor)
                {
                    SpoolLog.CursorMoved(_logger, state.Name, written, next, cursor);
                }

                state.Committed = cursor;
                state.Checkpointed = checkpoint ?? cursor;
                state.AgeCursor = -1;
            }

            _segments.Clear();
            _segments.AddRange(segments);
            _events = events;
            _storedBytes = segments.Sum(s => s.FileBytes);
            _pendingBytes = 0;
            _nextPosition = next;
            _durableEnd = next;
            _freeDiskBytes = free;
            _lastError = null;
            _active = active;
            _activeFile = null;
            SetState(SpoolState.Writable);
            signal = _durableSignal;
            _durableSignal = NewSignal();
        }

        signal.TrySetResult();
        SpoolLog.Opened(_logger, _path, segments.Count, segments.Sum(s => s.FileBytes), oldest, next);
    }

    private SpoolSegment? RecoverSegment(
        string path, long basePosition, long limit, bool isLast, Dictionary<string, long> cursors, SpoolEventIndex events, ref bool directoryChanged)
    {
        var names = cursors.Keys.ToArray();
        var name = System.IO.Path.GetFileName(path);
        SegmentScan scan;
        using (var file = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete))
        {
            var length = RandomAccess.GetLength(file);
            if (length < SpoolFormat.SegmentHeaderSize && isLast)
            {
                // Created, then cut short by a crash before its header was flushed: it never held a record.
                file.Dispose();
                _files.Delete(path);
                directoryChanged = true;
                SpoolLog.TornTailCut(_logger, name, length, 0, basePosition);
                _metrics.Truncated(length, SpoolMetrics.TornTail);
                return null;
            }

            Span<byte> header = stackalloc byte[SpoolFormat.SegmentHeaderSize];
            if (length < SpoolFormat.SegmentHeaderSize
                || RandomAccess.Read(file, header, 0) < header.Length
                || !SpoolFormat.IsValidSegmentHeader(header, basePosition))
            {
                file.Dispose();
                var setAside = path + SpoolFormat.SetAsideExtension;
                _files.Move(path, setAside);
                directoryChanged = true;
                SpoolLog.SegmentSetAside(_logger, name, System.IO.Path.GetFileName(setAside));
                _metrics.Truncated(length, SpoolMetrics.Corrupt);
                return null;
            }

            scan = SegmentScanner.Scan(file, limit, (start, end, payload) =>
            {
                SnapCursors(cursors, names, basePosition + start, basePosition + end);
                events.Add(basePosition + end, CountEvents(payload));
            });
        }

        var segment = new SpoolSegment(basePosition, path) { End = basePosition + scan.ValidLength };

        // Records cut from a torn tail were counted by the scan.
        events.TruncateAfter(segment.End);
        switch (scan.Ending)
        {
            case SegmentEnding.TornTail:
                using (var file = _files.OpenForWrite(path, FileMode.Open))
                {
                    _files.SetLength(file, SpoolFormat.SegmentHeaderSize + scan.ValidLength);
                    _files.Flush(file);
                }

                SpoolLog.TornTailCut(_logger, name, scan.CutBytes, scan.CutRecords, segment.End);
                _metrics.Truncated(scan.CutBytes, SpoolMetrics.TornTail);
                segment.FileBytes = SpoolFormat.SegmentHeaderSize + scan.ValidLength;
                break;
            case SegmentEnding.Corrupt:
                SpoolLog.CorruptRecord(_logger, name, segment.End, scan.CutBytes);
                _metrics.Truncated(scan.CutBytes, SpoolMetrics.Corrupt);
                segment.FileBytes = SpoolFormat.SegmentHeaderSize + scan.DataLength;
                segment.Sealed = true;
                break;
            default:
                segment.FileBytes = SpoolFormat.SegmentHeaderSize + scan.ValidLength;
                break;
        }

        return segment;
    }

    // A cursor inside a record (a checkpoint that was not written by this spool) resumes after that record.
    private static void SnapCursors(Dictionary<string, long> cursors, string[] names, long start, long end)
    {
        if (cursors.Count == 0)
        {
            return;
        }

        foreach (var name in names)
        {
            if (cursors.TryGetValue(name, out var cursor) && cursor > start && cursor < end)
            {
                cursors[name] = end;
            }
        }
    }

    private long? ReadCheckpoint(string consumer)
    {
        var path = CheckpointPath(consumer);
        if (!File.Exists(path))
        {
            return null;
        }

        var content = File.ReadAllBytes(path);
        return SpoolFormat.TryReadCheckpoint(content, out var position) ? position : null;
    }
}
