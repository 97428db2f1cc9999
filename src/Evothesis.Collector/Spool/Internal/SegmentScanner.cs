using System.Buffers;
using Microsoft.Win32.SafeHandles;

namespace Evothesis.Collector.Spool.Internal;

/// <summary>How the records of a segment file end.</summary>
internal enum SegmentEnding
{
    /// <summary>Every byte belongs to a whole, intact record of a whole append.</summary>
    Clean,

    /// <summary>
    /// The last frame is incomplete or fails its checksum and nothing follows it (a write cut short by a crash, or
    /// garbage after the last record), or the last append's records are not all there. Nothing in it was ever
    /// acknowledged: it is cut at the end of the last whole append.
    /// </summary>
    TornTail,

    /// <summary>
    /// A frame in the middle fails its checksum and more bytes follow: the disk changed acknowledged data. The
    /// segment is read up to the last intact record and the rest is left in the file for inspection.
    /// </summary>
    Corrupt,
}

/// <summary>The outcome of scanning one segment file's records.</summary>
/// <param name="DataLength">The bytes after the segment header.</param>
/// <param name="ValidLength">The bytes of records to keep, from the start of the data.</param>
/// <param name="Records">The records kept.</param>
/// <param name="Ending">How the data ends.</param>
/// <param name="CutRecords">The records after <paramref name="ValidLength"/>; an incomplete one counts as one.</param>
internal readonly record struct SegmentScan(long DataLength, long ValidLength, long Records, SegmentEnding Ending, long CutRecords)
{
    public long CutBytes => DataLength - ValidLength;
}

/// <summary>Told about each intact record a scan finds.</summary>
/// <param name="start">The record's data offset in the segment.</param>
/// <param name="end">The data offset after it.</param>
/// <param name="payload">Its payload, valid during the call only.</param>
internal delegate void RecordVisitor(long start, long end, ReadOnlySpan<byte> payload);

/// <summary>Verifies the framing and checksum of every record of a segment file.</summary>
internal static class SegmentScanner
{
    private const int ChunkSize = 1024 * 1024;

    /// <summary>Scans the records of a segment whose header has been checked.</summary>
    /// <param name="file">The segment file, open for reading.</param>
    /// <param name="dataLimit">
    /// How many data bytes may belong to the segment: the next segment's base minus this one's. Records past it were
    /// written after a failed flush and never acknowledged (the next segment took over their positions).
    /// </param>
    /// <param name="onRecord">Called with the data offsets of each intact record's start and end, and its payload.</param>
    public static SegmentScan Scan(SafeFileHandle file, long dataLimit, RecordVisitor? onRecord = null)
    {
        var dataLength = Math.Max(0, RandomAccess.GetLength(file) - SpoolFormat.SegmentHeaderSize);
        var limit = Math.Min(dataLength, dataLimit);
        var chunk = new Chunk(file, limit);
        try
        {
            long offset = 0, records = 0, appendEnd = 0, appendRecords = 0;
            var ending = SegmentEnding.Clean;
            while (offset < limit)
            {
                if (limit - offset < SpoolFormat.FrameHeaderSize)
                {
                    ending = SegmentEnding.TornTail;
                    break;
                }

                var header = SpoolFormat.ReadFrameHeader(chunk.Get(offset, SpoolFormat.FrameHeaderSize));
                var end = offset + header.FrameLength;
                if (end > limit)
                {
                    ending = SegmentEnding.TornTail;
                    break;
                }

                var frame = chunk.Get(offset, (int)header.FrameLength);
                if (!SpoolFormat.IsIntact(frame))
                {
                    ending = end == limit ? SegmentEnding.TornTail : SegmentEnding.Corrupt;
                    break;
                }

                onRecord?.Invoke(offset, end, frame[SpoolFormat.FrameHeaderSize..]);
                records++;
                offset = end;
                if (!header.Continued)
                {
                    appendEnd = offset;
                    appendRecords = records;
                }
            }

            if (ending == SegmentEnding.Clean && (appendEnd < offset || limit < dataLength))
            {
                ending = SegmentEnding.TornTail;
            }

            return ending switch
            {
                SegmentEnding.Clean => new SegmentScan(dataLength, offset, records, ending, 0),
                SegmentEnding.TornTail => new SegmentScan(
                    dataLength, appendEnd, appendRecords, ending, records - appendRecords + (offset < dataLength ? 1 : 0)),
                _ => new SegmentScan(dataLength, offset, records, ending, 1),
            };
        }
        finally
        {
            chunk.Dispose();
        }
    }

    // A window over the segment's data, refilled as the scan moves on: one read per megabyte, not per record.
    private struct Chunk(SafeFileHandle file, long limit) : IDisposable
    {
        private byte[] _buffer = ArrayPool<byte>.Shared.Rent(ChunkSize);
        private long _start;
        private int _length;

        public ReadOnlySpan<byte> Get(long offset, int count)
        {
            if (offset < _start || offset + count > _start + _length)
            {
                Fill(offset, count);
            }

            return _buffer.AsSpan((int)(offset - _start), count);
        }

        public readonly void Dispose() => ArrayPool<byte>.Shared.Return(_buffer);

        private void Fill(long offset, int count)
        {
            if (_buffer.Length < count)
            {
                ArrayPool<byte>.Shared.Return(_buffer);
                _buffer = ArrayPool<byte>.Shared.Rent(count);
            }

            var length = (int)Math.Min(_buffer.Length, limit - offset);
            var read = 0;
            while (read < length)
            {
                var n = RandomAccess.Read(file, _buffer.AsSpan(read, length - read), SpoolFormat.SegmentHeaderSize + offset + read);
                if (n == 0)
                {
                    throw new IOException("The segment file became shorter while it was being scanned.");
                }

                read += n;
            }

            _start = offset;
            _length = length;
        }
    }
}
