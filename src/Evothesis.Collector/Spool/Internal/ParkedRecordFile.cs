using System.Buffers.Binary;
using System.Globalization;
using System.Text.Json;

namespace Evothesis.Collector.Spool.Internal;

/// <summary>
/// A file of spool records a sink refused for good, kept beside the spool (<c>parked/{consumer}/</c>) until
/// <c>evothesis-replay</c> delivers them again. All integers are little-endian.
/// </summary>
/// <remarks>
/// A 16-byte header: magic <c>EVPK</c>, version (u16), reserved (u16), the position of the batch the records were
/// delivered in (i64). Then frames in the spool's own framing (<see cref="SpoolFormat"/>: CRC-32C, length, append
/// time, payload), so that every byte is verifiable: the first frame's payload is the file's description (UTF-8
/// JSON: sink, reason, the records' spool positions, the batch's append time), the others are the parked records
/// exactly as they were in the spool (same payload, same append time). Written to a temporary file, fsynced, renamed
/// and the folder fsynced before the consumer's cursor moves past the records.
/// </remarks>
internal static class ParkedRecordFile
{
    public const string Extension = ".parked";
    public const ushort Version = 1;

    private const int HeaderSize = 16;

    private static ReadOnlySpan<byte> Magic => "EVPK"u8;

    /// <summary>The file's name: the position of its first record, so that parking the same records again after a crash replaces the file.</summary>
    public static string FileName(long firstRecordPosition) =>
        firstRecordPosition.ToString("D20", CultureInfo.InvariantCulture) + Extension;

    /// <summary>Encodes a parked file: the header, the description and the records.</summary>
    public static byte[] Encode(ParkedRecordInfo info, IReadOnlyList<SpoolRecord> records)
    {
        ArgumentNullException.ThrowIfNull(info);
        ArgumentNullException.ThrowIfNull(records);
        var description = Describe(info);
        var length = HeaderSize + SpoolFormat.FrameHeaderSize + description.Length;
        foreach (var record in records)
        {
            length += SpoolFormat.FrameHeaderSize + record.Payload.Length;
        }

        var bytes = new byte[length];
        Magic.CopyTo(bytes);
        BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(4), Version);
        BinaryPrimitives.WriteInt64LittleEndian(bytes.AsSpan(8), info.BatchPosition);
        var offset = HeaderSize;
        offset += WriteFrame(bytes.AsSpan(offset), description, info.ParkedAt.ToUnixTimeMilliseconds());
        foreach (var record in records)
        {
            offset += WriteFrame(bytes.AsSpan(offset), record.Payload.Span, record.AppendedAt.ToUnixTimeMilliseconds());
        }

        return bytes;
    }

    /// <summary>Reads and verifies a parked file.</summary>
    /// <exception cref="InvalidDataException">The file is not a parked file, or a frame fails its checksum.</exception>
    public static ParkedRecordSet Read(string path)
    {
        var bytes = File.ReadAllBytes(path);
        var (info, offset) = ReadDescription(bytes, path);
        var records = new List<SpoolRecord>(info.Positions.Count);
        var memory = bytes.AsMemory();
        while (offset < bytes.Length)
        {
            var (payload, appendedAt, next) = ReadFrame(memory, offset, path);
            var index = records.Count;
            if (index >= info.Positions.Count)
            {
                throw new InvalidDataException($"The parked file '{path}' holds more records than its description lists.");
            }

            var position = info.Positions[index];
            records.Add(new SpoolRecord(position, position + (next - offset), appendedAt, payload));
            offset = next;
        }

        if (records.Count != info.Positions.Count)
        {
            throw new InvalidDataException($"The parked file '{path}' holds {records.Count} records; its description lists {info.Positions.Count}.");
        }

        return new ParkedRecordSet(path, info, records);
    }

    /// <summary>Reads and verifies only a parked file's description (for counting).</summary>
    /// <exception cref="InvalidDataException">The file is not a parked file, or its description fails its checksum.</exception>
    public static ParkedRecordInfo ReadInfo(string path)
    {
        using var file = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        var head = new byte[HeaderSize + SpoolFormat.FrameHeaderSize];
        if (RandomAccess.Read(file, head, 0) < head.Length)
        {
            throw new InvalidDataException($"The parked file '{path}' is too short.");
        }

        var frame = SpoolFormat.ReadFrameHeader(head.AsSpan(HeaderSize));
        var bytes = new byte[HeaderSize + frame.FrameLength];
        if (frame.FrameLength > 1024 * 1024 || RandomAccess.Read(file, bytes, 0) < bytes.Length)
        {
            throw new InvalidDataException($"The parked file '{path}' has no readable description.");
        }

        return ReadDescription(bytes, path).Info;
    }

    private static (ParkedRecordInfo Info, int Offset) ReadDescription(byte[] bytes, string path)
    {
        if (bytes.Length < HeaderSize || !bytes.AsSpan(0, 4).SequenceEqual(Magic)
            || BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(4)) != Version)
        {
            throw new InvalidDataException($"'{path}' is not a parked-records file (version {Version}).");
        }

        var batchPosition = BinaryPrimitives.ReadInt64LittleEndian(bytes.AsSpan(8));
        var (description, parkedAt, offset) = ReadFrame(bytes, HeaderSize, path);
        try
        {
            using var json = JsonDocument.Parse(description);
            var root = json.RootElement;
            var positions = root.GetProperty("positions").EnumerateArray().Select(p => p.GetInt64()).ToArray();
            var clients = root.GetProperty("clients").EnumerateArray().Select(c => c.GetString() ?? string.Empty).ToArray();
            var info = new ParkedRecordInfo(
                root.GetProperty("sink").GetString() ?? string.Empty,
                root.GetProperty("reason").GetString() ?? string.Empty,
                root.GetProperty("message").GetString() ?? string.Empty,
                parkedAt,
                batchPosition,
                DateTimeOffset.FromUnixTimeMilliseconds(root.GetProperty("batchAppendedAt").GetInt64()),
                positions,
                root.GetProperty("events").GetInt32(),
                clients);
            return (info, offset);
        }
        catch (Exception exception) when (exception is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
        {
            throw new InvalidDataException($"The description of the parked file '{path}' cannot be read: {exception.Message}", exception);
        }
    }

    private static (ReadOnlyMemory<byte> Payload, DateTimeOffset AppendedAt, int Next) ReadFrame(ReadOnlyMemory<byte> bytes, int offset, string path)
    {
        if (bytes.Length - offset < SpoolFormat.FrameHeaderSize)
        {
            throw new InvalidDataException($"The parked file '{path}' ends inside a record header at byte {offset}.");
        }

        var header = SpoolFormat.ReadFrameHeader(bytes.Span[offset..]);
        if (header.FrameLength > bytes.Length - offset)
        {
            throw new InvalidDataException($"The parked file '{path}' ends inside a record at byte {offset}.");
        }

        var length = (int)header.FrameLength;
        if (!SpoolFormat.IsIntact(bytes.Span.Slice(offset, length)))
        {
            throw new InvalidDataException($"The record at byte {offset} of the parked file '{path}' fails its checksum.");
        }

        return (bytes.Slice(offset + SpoolFormat.FrameHeaderSize, header.PayloadLength),
            DateTimeOffset.FromUnixTimeMilliseconds(header.AppendedAtMilliseconds), offset + length);
    }

    private static int WriteFrame(Span<byte> destination, ReadOnlySpan<byte> payload, long appendedAtMilliseconds)
    {
        var frame = destination[..(SpoolFormat.FrameHeaderSize + payload.Length)];
        payload.CopyTo(frame[SpoolFormat.FrameHeaderSize..]);
        SpoolFormat.SealFrame(frame, continued: false, appendedAtMilliseconds);
        return frame.Length;
    }

    private static byte[] Describe(ParkedRecordInfo info)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("sink", info.Sink);
            json.WriteString("reason", info.Reason);
            json.WriteString("message", info.Message);
            json.WriteNumber("batchAppendedAt", info.BatchAppendedAt.ToUnixTimeMilliseconds());
            json.WriteNumber("events", info.Events);
            json.WriteStartArray("clients");
            foreach (var client in info.ClientIds)
            {
                json.WriteStringValue(client);
            }

            json.WriteEndArray();
            json.WriteStartArray("positions");
            foreach (var position in info.Positions)
            {
                json.WriteNumberValue(position);
            }

            json.WriteEndArray();
            json.WriteEndObject();
        }

        return buffer.ToArray();
    }
}

/// <summary>What a parked file says about its records.</summary>
/// <param name="Sink">The sink that refused them.</param>
/// <param name="Reason">The exception's type and the message the sink gave (never an event's values).</param>
/// <param name="Message">The message the sink gave.</param>
/// <param name="ParkedAt">When they were parked.</param>
/// <param name="BatchPosition">The position of the batch they were delivered in: with <paramref name="BatchAppendedAt"/>, the batch id a replay uses.</param>
/// <param name="BatchAppendedAt">The append time of that batch's first record.</param>
/// <param name="Positions">Each record's spool position.</param>
/// <param name="Events">The events the records hold.</param>
/// <param name="ClientIds">The clients whose events they are.</param>
internal sealed record ParkedRecordInfo(
    string Sink,
    string Reason,
    string Message,
    DateTimeOffset ParkedAt,
    long BatchPosition,
    DateTimeOffset BatchAppendedAt,
    IReadOnlyList<long> Positions,
    int Events,
    IReadOnlyList<string> ClientIds);

/// <summary>A parked file read back: its description and its records (payloads verified).</summary>
internal sealed record ParkedRecordSet(string Path, ParkedRecordInfo Info, IReadOnlyList<SpoolRecord> Records);
