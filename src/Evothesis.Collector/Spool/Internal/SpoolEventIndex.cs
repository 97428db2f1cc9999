namespace Evothesis.Collector.Spool.Internal;

/// <summary>
/// How many events the spool's records hold, by position: one entry per record (its end position and the running
/// total of events up to it), so that a consumer's lag in events is the total at the durable end minus the total at its
/// cursor. 16 bytes per record still needed by some consumer (entries behind every cursor are dropped); not thread-safe:
/// the spool guards it with its lock.
/// </summary>
internal sealed class SpoolEventIndex
{
    private long[] _ends = new long[1024];
    private long[] _totals = new long[1024];
    private int _start;
    private int _count;

    // The running total before the first entry kept.
    private long _base;

    /// <summary>Gets the entries kept.</summary>
    public int Count => _count - _start;

    /// <summary>Records a record ending at <paramref name="end"/> with <paramref name="events"/> events; ends must grow.</summary>
    public void Add(long end, int events)
    {
        if (_count == _ends.Length)
        {
            Compact();
            if (_count == _ends.Length)
            {
                Array.Resize(ref _ends, _ends.Length * 2);
                Array.Resize(ref _totals, _totals.Length * 2);
            }
        }

        _ends[_count] = end;
        _totals[_count] = Total(_count) + events;
        _count++;
    }

    /// <summary>Gets the events of the records from <paramref name="from"/> to <paramref name="to"/> (record boundaries).</summary>
    public long CountBetween(long from, long to) => to <= from ? 0 : Math.Max(0, TotalAt(to) - TotalAt(from));

    /// <summary>Forgets records ending after <paramref name="position"/> (appends that failed: their positions are given out again).</summary>
    public void TruncateAfter(long position)
    {
        while (_count > _start && _ends[_count - 1] > position)
        {
            _count--;
        }
    }

    /// <summary>Forgets records ending at or before <paramref name="position"/>: every consumer is past them.</summary>
    public void DropThrough(long position)
    {
        while (_start < _count && _ends[_start] <= position)
        {
            _base = _totals[_start];
            _start++;
        }

        if (_start == _count)
        {
            _start = _count = 0;
        }
    }

    /// <summary>Forgets everything (before a recovery rebuilds the index).</summary>
    public void Clear()
    {
        _start = _count = 0;
        _base = 0;
    }

    private long Total(int index) => index > _start ? _totals[index - 1] : _base;

    // The running total of the records ending at or before position.
    private long TotalAt(long position)
    {
        int low = _start, high = _count - 1, found = -1;
        while (low <= high)
        {
            var middle = low + ((high - low) / 2);
            if (_ends[middle] <= position)
            {
                found = middle;
                low = middle + 1;
            }
            else
            {
                high = middle - 1;
            }
        }

        return found < 0 ? _base : _totals[found];
    }

    private void Compact()
    {
        if (_start == 0)
        {
            return;
        }

        var kept = _count - _start;
        Array.Copy(_ends, _start, _ends, 0, kept);
        Array.Copy(_totals, _start, _totals, 0, kept);
        _start = 0;
        _count = kept;
    }
}
