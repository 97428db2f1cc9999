using System.Buffers.Binary;
using System.Globalization;
using System.IO.Hashing;

namespace Evothesis.Collector.Spool.Internal;

/// <summary>
/// The on-disk layout of the spool. All integers are little-endian.
/// </summary>
/// <remarks>
/// <para>
/// A segment file is named after its base position (20 digits, <c>00000000000000000000.seg</c>) and starts with
/// a 16-byte header: magic <c>EVSP</c>, version (u16), reserved (u16), base position (i64). Records follow.
/// </para>
/// <para>
/// Positions are global byte offsets over record bytes only (segment headers are not counted): a record at byte
/// <c>n</c> of a segment's data has position <c>base + n</c>, and a segment's successor starts at the position
/// where it ends, so positions are stable across restarts and across segment deletion.
/// </para>
/// <para>
/// A record is a 16-byte frame header followed by the payload: CRC-32C (u32) over everything after it (the
/// length word, the append time and the payload), the length word (u32: payload length in the low 31 bits; the
/// top bit set when the next record belongs to the same append), and the append time (i64, Unix milliseconds).
/// Covering the length word lets a torn or garbage length be caught by the checksum; an all-zero region never
/// checks out.
/// </para>
/// </remarks>
internal static class SpoolFormat
{
    public const string SegmentExtension = ".seg";
    public const string CheckpointExtension = ".checkpoint";
    public const string TemporaryExtension = ".tmp";
    public const string SetAsideExtension = ".corrupt";
    public const int SegmentHeaderSize = 16;
    public const int FrameHeaderSize = 16;
    public const ushort Version = 1;
    public const uint ContinuedFlag = 0x8000_0000;
    public const int CheckpointSize = 20;

    private const int NameDigits = 20;

    private static ReadOnlySpan<byte> SegmentMagic => "EVSP"u8;

    private static ReadOnlySpan<byte> CheckpointMagic => "EVCP"u8;

    public static string SegmentFileName(long basePosition) =>
        basePosition.ToString("D20", CultureInfo.InvariantCulture) + SegmentExtension;

    public static bool TryParseSegmentFileName(string fileName, out long basePosition)
    {
        basePosition = 0;
        return fileName.Length == NameDigits + SegmentExtension.Length
            && fileName.EndsWith(SegmentExtension, StringComparison.Ordinal)
            && long.TryParse(fileName.AsSpan(0, NameDigits), NumberStyles.None, CultureInfo.InvariantCulture, out basePosition);
    }

    public static void WriteSegmentHeader(Span<byte> destination, long basePosition)
    {
        SegmentMagic.CopyTo(destination);
        BinaryPrimitives.WriteUInt16LittleEndian(destination[4..], Version);
        BinaryPrimitives.WriteUInt16LittleEndian(destination[6..], 0);
        BinaryPrimitives.WriteInt64LittleEndian(destination[8..], basePosition);
    }

    public static bool IsValidSegmentHeader(ReadOnlySpan<byte> header, long expectedBase) =>
        header.Length >= SegmentHeaderSize
        && header[..4].SequenceEqual(SegmentMagic)
        && BinaryPrimitives.ReadUInt16LittleEndian(header[4..]) == Version
        && BinaryPrimitives.ReadInt64LittleEndian(header[8..]) == expectedBase;

    /// <summary>Writes a frame header for the payload that already follows it in <paramref name="frame"/>.</summary>
    public static void SealFrame(Span<byte> frame, bool continued, long appendedAtMilliseconds)
    {
        var payloadLength = (uint)(frame.Length - FrameHeaderSize);
        BinaryPrimitives.WriteUInt32LittleEndian(frame[4..], continued ? payloadLength | ContinuedFlag : payloadLength);
        BinaryPrimitives.WriteInt64LittleEndian(frame[8..], appendedAtMilliseconds);
        BinaryPrimitives.WriteUInt32LittleEndian(frame, Checksum(frame[4..]));
    }

    public static uint Checksum(ReadOnlySpan<byte> data) => Crc32.HashToUInt32(Crc32ParameterSet.Crc32C, data);

    /// <summary>Reads a frame header; the payload is checked by <see cref="IsIntact"/>.</summary>
    public static FrameHeader ReadFrameHeader(ReadOnlySpan<byte> header)
    {
        var word = BinaryPrimitives.ReadUInt32LittleEndian(header[4..]);
        return new FrameHeader(
            BinaryPrimitives.ReadUInt32LittleEndian(header),
            (int)(word & ~ContinuedFlag),
            (word & ContinuedFlag) != 0,
            BinaryPrimitives.ReadInt64LittleEndian(header[8..]));
    }

    /// <summary>Whether a whole frame (header and payload) matches its checksum.</summary>
    public static bool IsIntact(ReadOnlySpan<byte> frame) =>
        frame.Length >= FrameHeaderSize && BinaryPrimitives.ReadUInt32LittleEndian(frame) == Checksum(frame[4..]);

    public static void WriteCheckpoint(Span<byte> destination, long position)
    {
        CheckpointMagic.CopyTo(destination);
        BinaryPrimitives.WriteUInt16LittleEndian(destination[4..], Version);
        BinaryPrimitives.WriteUInt16LittleEndian(destination[6..], 0);
        BinaryPrimitives.WriteInt64LittleEndian(destination[8..], position);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[16..], Checksum(destination[..16]));
    }

    public static bool TryReadCheckpoint(ReadOnlySpan<byte> data, out long position)
    {
        position = 0;
        if (data.Length != CheckpointSize
            || !data[..4].SequenceEqual(CheckpointMagic)
            || BinaryPrimitives.ReadUInt16LittleEndian(data[4..]) != Version
            || BinaryPrimitives.ReadUInt32LittleEndian(data[16..]) != Checksum(data[..16]))
        {
            return false;
        }

        position = BinaryPrimitives.ReadInt64LittleEndian(data[8..]);
        return position >= 0;
    }
}

/// <summary>A record's frame header as read from disk.</summary>
internal readonly record struct FrameHeader(uint Checksum, int PayloadLength, bool Continued, long AppendedAtMilliseconds)
{
    public long FrameLength => SpoolFormat.FrameHeaderSize + (long)PayloadLength;
}
