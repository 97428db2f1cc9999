using System.Buffers;
using System.Buffers.Binary;
using System.Text;
using Evothesis.Collector.Audit;
using Evothesis.Collector.Events;

namespace Evothesis.Collector.Spool.Internal;

/// <summary>The events of one accepted request and its audit record, as read back from a spool record.</summary>
internal sealed class SpooledRequest(IReadOnlyList<CollectedEvent> events, AuditRecord? audit)
{
    public IReadOnlyList<CollectedEvent> Events { get; } = events;

    public AuditRecord? Audit { get; } = audit;
}

/// <summary>
/// Turns one accepted request (its events, after the privacy rules, and its optional audit record) into a spool
/// record's payload and back, exactly: the same ids, times, strings and JSON bytes, so that a redelivery writes
/// the same row.
/// </summary>
/// <remarks>
/// Version 1, little-endian: <c>u8 version, u8 flags (1 = has audit), varint event count, events, [audit]</c>.
/// An event: <c>Id (16 bytes, big-endian RFC 9562 order)</c>, EventId?, EventType, ClientId, SiteId, SessionId?,
/// Timestamp, ClientTimestamp?, ReceivedAt, PageData, EventData, CustomData, Consent, Ip?, UserAgent?,
/// <c>varint RequestIndex</c>, DedicatedBucket?. An audit record: Id, Time, ClientId, SiteId, RequestId?,
/// <c>varint EventCount</c>, <c>varint n</c> × (type, <c>varint</c> count), IpHash?, <c>varint n</c> × redaction.
/// Strings and JSON are <c>varint (byte length + 1)</c> then UTF-8, with 0 for null (JSON null is stored as null,
/// as <see cref="RawJson"/> does). A time is its clock ticks (i64) and offset minutes (i16).
/// </remarks>
internal static class SpoolEventCodec
{
    public const byte Version = 1;

    private const byte HasAudit = 1;
    private const int GuidSize = 16;

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    // The strings a thread decoded last for values many events share; a consumer's thread decodes records one after the
    // other, and the events of a collector's spool come from few clients, sites and browsers.
    [ThreadStatic]
    private static RepeatedStrings? t_repeated;

    /// <summary>Writes a request's payload.</summary>
    /// <exception cref="ArgumentException">A string is not valid UTF-16 (a lone surrogate).</exception>
    public static void Write(IBufferWriter<byte> output, IReadOnlyList<CollectedEvent> events, AuditRecord? audit)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(events);
        var writer = new Writer(output);
        writer.Byte(Version);
        writer.Byte(audit is null ? (byte)0 : HasAudit);
        writer.VarUInt((uint)events.Count);
        foreach (var e in events)
        {
            writer.Guid(e.Id);
            writer.String(e.EventId);
            writer.String(e.EventType);
            writer.String(e.ClientId);
            writer.String(e.SiteId);
            writer.String(e.SessionId);
            writer.Time(e.Timestamp);
            writer.String(e.ClientTimestamp);
            writer.Time(e.ReceivedAt);
            writer.Json(e.PageData);
            writer.Json(e.EventData);
            writer.Json(e.CustomData);
            writer.Json(e.Consent);
            writer.String(e.Ip);
            writer.String(e.UserAgent);
            writer.VarUInt(unchecked((uint)e.RequestIndex));
            writer.String(e.DedicatedBucket);
        }

        if (audit is not null)
        {
            writer.Guid(audit.Id);
            writer.Time(audit.Time);
            writer.String(audit.ClientId);
            writer.String(audit.SiteId);
            writer.String(audit.RequestId);
            writer.VarUInt(unchecked((uint)audit.EventCount));
            writer.VarUInt((uint)audit.EventTypes.Count);
            foreach (var (type, count) in audit.EventTypes)
            {
                writer.String(type);
                writer.VarUInt(unchecked((uint)count));
            }

            writer.String(audit.IpHash);
            writer.VarUInt((uint)audit.Redactions.Count);
            foreach (var redaction in audit.Redactions)
            {
                writer.String(redaction);
            }
        }
    }

    /// <summary>Tells whether a payload carries an audit record, without reading its events.</summary>
    public static bool HasAuditRecord(ReadOnlySpan<byte> payload) =>
        payload.Length > 1 && payload[0] == Version && payload[1] == HasAudit;

    /// <summary>Reads how many events a payload holds from its header, without reading them; 0 for a payload it cannot read.</summary>
    public static int EventCount(ReadOnlySpan<byte> payload)
    {
        if (payload.Length < 3 || payload[0] != Version)
        {
            return 0;
        }

        uint value = 0;
        for (int i = 2, shift = 0; i < payload.Length && shift < 35; i++, shift += 7)
        {
            value |= (uint)(payload[i] & 0x7F) << shift;
            if (payload[i] < 0x80)
            {
                return (int)Math.Min(value, int.MaxValue);
            }
        }

        return 0;
    }

    /// <summary>Returns a request's payload as a new array.</summary>
    public static byte[] Encode(IReadOnlyList<CollectedEvent> events, AuditRecord? audit)
    {
        var output = new ArrayBufferWriter<byte>(256 + (events?.Count ?? 0) * 512);
        Write(output, events!, audit);
        return output.WrittenSpan.ToArray();
    }

    /// <summary>
    /// Reads a payload back. The events' JSON values point into <paramref name="payload"/> (no copy): keep it
    /// unchanged while they are in use.
    /// </summary>
    /// <exception cref="InvalidDataException">The payload is not one request of a known version.</exception>
    public static SpooledRequest Decode(ReadOnlyMemory<byte> payload)
    {
        var reader = new Reader(payload);
        var version = reader.Byte();
        if (version != Version)
        {
            throw new InvalidDataException($"Spool payload version {version} is not known (expected {Version}).");
        }

        var flags = reader.Byte();
        var count = reader.Count(GuidSize);
        var events = new List<CollectedEvent>(count);
        for (var i = 0; i < count; i++)
        {
            events.Add(new CollectedEvent
            {
                Id = reader.Guid(),
                EventId = reader.String(),
                EventType = reader.RequiredRepeated(),
                ClientId = reader.RequiredRepeated(),
                SiteId = reader.RequiredRepeated(),
                SessionId = reader.Repeated(),
                Timestamp = reader.Time(),
                ClientTimestamp = reader.String(),
                ReceivedAt = reader.Time(),
                PageData = reader.Json(),
                EventData = reader.Json(),
                CustomData = reader.Json(),
                Consent = reader.Json(),
                Ip = reader.Repeated(),
                UserAgent = reader.Repeated(),
                RequestIndex = unchecked((int)reader.VarUInt()),
                DedicatedBucket = reader.Repeated(),
            });
        }

        AuditRecord? audit = null;
        if ((flags & HasAudit) != 0)
        {
            var id = reader.Guid();
            var time = reader.Time();
            var clientId = reader.RequiredString();
            var siteId = reader.RequiredString();
            var requestId = reader.String();
            var eventCount = unchecked((int)reader.VarUInt());
            var typeCount = reader.Count(2);
            var types = new Dictionary<string, int>(typeCount, StringComparer.Ordinal);
            for (var i = 0; i < typeCount; i++)
            {
                var type = reader.RequiredString();
                if (!types.TryAdd(type, unchecked((int)reader.VarUInt())))
                {
                    throw new InvalidDataException($"Spool payload audit record lists event type '{type}' twice.");
                }
            }

            var ipHash = reader.String();
            var redactionCount = reader.Count(1);
            var redactions = new string[redactionCount];
            for (var i = 0; i < redactionCount; i++)
            {
                redactions[i] = reader.RequiredString();
            }

            audit = new AuditRecord
            {
                Id = id,
                Time = time,
                ClientId = clientId,
                SiteId = siteId,
                RequestId = requestId,
                EventCount = eventCount,
                EventTypes = types,
                IpHash = ipHash,
                Redactions = redactions,
            };
        }
        else if (flags != 0)
        {
            throw new InvalidDataException($"Spool payload flags {flags} are not known.");
        }

        reader.End();
        return new SpooledRequest(events, audit);
    }

    private readonly ref struct Writer(IBufferWriter<byte> output)
    {
        private readonly IBufferWriter<byte> _output = output;

        public void Byte(byte value)
        {
            _output.GetSpan(1)[0] = value;
            _output.Advance(1);
        }

        public void VarUInt(uint value)
        {
            var span = _output.GetSpan(5);
            var i = 0;
            while (value >= 0x80)
            {
                span[i++] = (byte)(value | 0x80);
                value >>= 7;
            }

            span[i++] = (byte)value;
            _output.Advance(i);
        }

        public void Guid(Guid value)
        {
            value.TryWriteBytes(_output.GetSpan(GuidSize), bigEndian: true, out _);
            _output.Advance(GuidSize);
        }

        public void Time(DateTimeOffset value)
        {
            var span = _output.GetSpan(10);
            BinaryPrimitives.WriteInt64LittleEndian(span, value.Ticks);
            BinaryPrimitives.WriteInt16LittleEndian(span[8..], (short)value.Offset.TotalMinutes);
            _output.Advance(10);
        }

        public void String(string? value)
        {
            if (value is null)
            {
                VarUInt(0);
                return;
            }

            var length = StrictUtf8.GetByteCount(value);
            VarUInt((uint)length + 1);
            var written = StrictUtf8.GetBytes(value, _output.GetSpan(length));
            _output.Advance(written);
        }

        public void Json(RawJson value)
        {
            if (value.IsNull)
            {
                VarUInt(0);
                return;
            }

            var utf8 = value.Utf8.Span;
            VarUInt((uint)utf8.Length + 1);
            _output.Write(utf8);
        }
    }

    // A small table of decoded strings by their UTF-8 bytes (one per hash slot; a collision replaces the entry).
    private sealed class RepeatedStrings
    {
        private const int MaxBytes = 512;

        private readonly (byte[]? Utf8, string? Value)[] _slots = new (byte[]?, string?)[64];

        public string Get(ReadOnlySpan<byte> utf8)
        {
            if (utf8.Length > MaxBytes)
            {
                return StrictUtf8.GetString(utf8);
            }

            ref var slot = ref _slots[(int)(System.IO.Hashing.XxHash3.HashToUInt64(utf8) & 63)];
            if (slot.Utf8 is { } known && utf8.SequenceEqual(known))
            {
                return slot.Value!;
            }

            var value = StrictUtf8.GetString(utf8);
            slot = (utf8.ToArray(), value);
            return value;
        }
    }

    private struct Reader(ReadOnlyMemory<byte> payload)
    {
        private readonly ReadOnlyMemory<byte> _payload = payload;
        private int _offset;

        public byte Byte() => Take(1)[0];

        public uint VarUInt()
        {
            uint value = 0;
            for (var shift = 0; shift < 35; shift += 7)
            {
                var b = Byte();
                value |= (uint)(b & 0x7F) << shift;
                if (b < 0x80)
                {
                    return value;
                }
            }

            throw new InvalidDataException("Spool payload holds a malformed number.");
        }

        // A count of items each at least minimumSize bytes long: more than the bytes left is garbage, not a reason to
        // allocate.
        public int Count(int minimumSize)
        {
            var count = VarUInt();
            return count <= (uint)((_payload.Length - _offset) / minimumSize)
                ? (int)count
                : throw new InvalidDataException($"Spool payload announces {count} items in {_payload.Length - _offset} bytes.");
        }

        public Guid Guid() => new(Take(GuidSize), bigEndian: true);

        public DateTimeOffset Time()
        {
            var span = Take(10);
            var ticks = BinaryPrimitives.ReadInt64LittleEndian(span);
            var offset = BinaryPrimitives.ReadInt16LittleEndian(span[8..]);
            try
            {
                return new DateTimeOffset(ticks, TimeSpan.FromMinutes(offset));
            }
            catch (ArgumentException exception)
            {
                throw new InvalidDataException("Spool payload holds an invalid time.", exception);
            }
        }

        public string? String() => String(repeats: false);

        // A value many events share (client, site, type, session, user agent, address): the string decoded last time for
        // the same bytes, on this thread, is reused.
        public string? Repeated() => String(repeats: true);

        public string RequiredRepeated() =>
            Repeated() ?? throw new InvalidDataException("Spool payload lacks a required string.");

        private string? String(bool repeats)
        {
            var length = VarUInt();
            if (length == 0)
            {
                return null;
            }

            try
            {
                var utf8 = Take(Length(length));
                return repeats ? (t_repeated ??= new RepeatedStrings()).Get(utf8) : StrictUtf8.GetString(utf8);
            }
            catch (DecoderFallbackException exception)
            {
                throw new InvalidDataException("Spool payload holds invalid UTF-8.", exception);
            }
        }

        public string RequiredString() =>
            String() ?? throw new InvalidDataException("Spool payload lacks a required string.");

        public RawJson Json()
        {
            var length = VarUInt();
            if (length == 0)
            {
                return RawJson.Null;
            }

            var count = Length(length);
            var slice = _payload.Slice(_offset, count);
            Take(count);
            return RawJson.FromValidated(slice);
        }

        public readonly void End()
        {
            if (_offset != _payload.Length)
            {
                throw new InvalidDataException($"Spool payload has {_payload.Length - _offset} bytes after the request.");
            }
        }

        private readonly int Length(uint encoded) =>
            encoded - 1 <= (uint)(_payload.Length - _offset)
                ? (int)(encoded - 1)
                : throw new InvalidDataException("Spool payload is shorter than a string it holds.");

        private ReadOnlySpan<byte> Take(int count)
        {
            if (_payload.Length - _offset < count)
            {
                throw new InvalidDataException("Spool payload ends early.");
            }

            var span = _payload.Span.Slice(_offset, count);
            _offset += count;
            return span;
        }
    }
}
