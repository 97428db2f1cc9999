using Microsoft.Win32.SafeHandles;

namespace Evothesis.Collector.Spool.Internal;

/// <summary>
/// Reads one consumer's records in position order, only records already on disk, waiting (without polling) for
/// the writer's next flush when it has them all. Not thread-safe: one loop per reader. Reads block on the file
/// (usually the page cache): call it from the consumer's own task, never from a request.
/// </summary>
internal sealed class SpoolReader : IDisposable
{
    private readonly WriteAheadSpool _spool;
    private SafeFileHandle? _file;
    private SpoolSegment? _fileSegment;

    internal SpoolReader(WriteAheadSpool spool, string consumer, long position)
    {
        _spool = spool;
        Consumer = consumer;
        Position = position;
    }

    /// <summary>Gets the consumer the reader reads for.</summary>
    public string Consumer { get; }

    /// <summary>Gets the position the next read starts at.</summary>
    public long Position { get; private set; }

    /// <summary>
    /// Reads the records after <see cref="Position"/>, waiting for one when there is none. Returns an empty batch
    /// only once the spool has stopped and every record has been read.
    /// </summary>
    /// <param name="maxRecords">The most records to return.</param>
    /// <param name="maxBytes">The most payload and framing bytes to return; a larger single record is returned alone.</param>
    /// <param name="cancellationToken">Stops waiting.</param>
    public async ValueTask<SpoolBatch> ReadAsync(int maxRecords, int maxBytes, CancellationToken cancellationToken)
    {
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var batch = Read(maxRecords, maxBytes, out var more, out var stopped);
            if (batch.Count > 0 || stopped)
            {
                return batch;
            }

            await more.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Reads the records after <see cref="Position"/> that are on disk, without waiting for more. An empty batch
    /// means there are none yet: <paramref name="more"/> completes when the writer has flushed more (or the spool
    /// stopped), and <paramref name="stopped"/> says the spool has stopped and every record has been read.
    /// </summary>
    /// <param name="maxRecords">The most records to return.</param>
    /// <param name="maxBytes">The most payload and framing bytes to return; a larger single record is returned alone.</param>
    /// <param name="more">When the batch is empty, completes when there may be more to read.</param>
    /// <param name="stopped">Whether the spool has stopped and this reader has every record.</param>
    public SpoolBatch Read(int maxRecords, int maxBytes, out Task more, out bool stopped)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxRecords, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxBytes, 1);
        while (true)
        {
            var view = _spool.Locate(Position);
            Position = view.Position;
            if (view.Segment is { } segment)
            {
                var records = Read(segment, view.ReadEnd, maxRecords, maxBytes);
                if (records.Count > 0)
                {
                    more = Task.CompletedTask;
                    stopped = false;
                    return new SpoolBatch(records, Position);
                }

                continue;
            }

            more = view.Signal;
            stopped = view.Stopped;
            return new SpoolBatch([], Position);
        }
    }

    /// <summary>
    /// Moves the reader, typically back to the consumer's committed cursor to read a batch again after a failed
    /// delivery. A position inside a record is not detected: use positions the spool handed out.
    /// </summary>
    public void Seek(long position)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(position);
        Position = position;
    }

    public void Dispose()
    {
        _file?.Dispose();
        _file = null;
        _fileSegment = null;
    }

    private List<SpoolRecord> Read(SpoolSegment segment, long readEnd, int maxRecords, int maxBytes)
    {
        var records = new List<SpoolRecord>();
        if (!TryOpen(segment))
        {
            // Deleted meanwhile: every consumer had it, so this reader was moved back by Seek. Skip it.
            Position = segment.End;
            return records;
        }

        var available = readEnd - Position;
        var buffer = new byte[(int)Math.Min(available, Math.Max(maxBytes, SpoolFormat.FrameHeaderSize))];
        ReadFully(buffer, FileOffset(segment));
        var offset = 0;
        while (records.Count < maxRecords && buffer.Length - offset >= SpoolFormat.FrameHeaderSize)
        {
            var header = SpoolFormat.ReadFrameHeader(buffer.AsSpan(offset));
            if (offset + header.FrameLength > buffer.Length)
            {
                if (records.Count > 0)
                {
                    break;
                }

                if (header.FrameLength > available)
                {
                    Corrupt(segment, available);
                    return records;
                }

                // One record larger than maxBytes: returned alone.
                buffer = new byte[header.FrameLength];
                ReadFully(buffer, FileOffset(segment));
                continue;
            }

            var frame = buffer.AsSpan(offset, (int)header.FrameLength);
            if (!SpoolFormat.IsIntact(frame))
            {
                Position += offset;
                Corrupt(segment, readEnd - Position);
                return records;
            }

            var position = Position + offset;
            records.Add(new SpoolRecord(
                position,
                position + header.FrameLength,
                DateTimeOffset.FromUnixTimeMilliseconds(header.AppendedAtMilliseconds),
                buffer.AsMemory(offset + SpoolFormat.FrameHeaderSize, header.PayloadLength)));
            offset += (int)header.FrameLength;
        }

        Position += offset;
        return records;
    }

    private long FileOffset(SpoolSegment segment) => SpoolFormat.SegmentHeaderSize + (Position - segment.Base);

    private void Corrupt(SpoolSegment segment, long skipped)
    {
        // Acknowledged data changed on disk (its checksum no longer matches): the rest of the segment cannot be
        // framed. Counted and logged, and the reader moves on to the next segment.
        _spool.CorruptRead(Consumer, segment, Position, skipped);
        Position = segment.End;
    }

    private bool TryOpen(SpoolSegment segment)
    {
        if (_fileSegment == segment)
        {
            return true;
        }

        Dispose();
        try
        {
            _file = File.OpenHandle(segment.Path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            _fileSegment = segment;
            return true;
        }
        catch (FileNotFoundException)
        {
            return false;
        }
    }

    private void ReadFully(Span<byte> buffer, long fileOffset)
    {
        while (!buffer.IsEmpty)
        {
            var read = RandomAccess.Read(_file!, buffer, fileOffset);
            if (read == 0)
            {
                throw new EndOfStreamException($"Spool segment '{_fileSegment!.FileName}' is shorter than its records.");
            }

            buffer = buffer[read..];
            fileOffset += read;
        }
    }
}
