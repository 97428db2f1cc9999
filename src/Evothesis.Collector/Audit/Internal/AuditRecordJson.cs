using System.Text.Json;

namespace Evothesis.Collector.Audit.Internal;

/// <summary>
/// The stored JSON shape of an audit record (one NDJSON line): <c>id</c>, <c>time</c>, <c>client_id</c>,
/// <c>site_id</c>, <c>request_id</c>, <c>event_count</c>, <c>event_types</c>, <c>ip_hash</c>, <c>redactions</c>.
/// </summary>
internal static class AuditRecordJson
{
    public static void Write(Utf8JsonWriter writer, AuditRecord record)
    {
        writer.WriteStartObject();
        writer.WriteString("id"u8, record.Id);
        writer.WriteString("time"u8, record.Time.ToUniversalTime());
        writer.WriteString("client_id"u8, record.ClientId);
        writer.WriteString("site_id"u8, record.SiteId);
        WriteNullable(writer, "request_id"u8, record.RequestId);
        writer.WriteNumber("event_count"u8, record.EventCount);
        writer.WriteStartObject("event_types"u8);
        foreach (var (type, count) in record.EventTypes)
        {
            writer.WriteNumber(type, count);
        }

        writer.WriteEndObject();
        WriteNullable(writer, "ip_hash"u8, record.IpHash);
        writer.WriteStartArray("redactions"u8);
        foreach (var redaction in record.Redactions)
        {
            writer.WriteStringValue(redaction);
        }

        writer.WriteEndArray();
        writer.WriteEndObject();
    }

    private static void WriteNullable(Utf8JsonWriter writer, ReadOnlySpan<byte> name, string? value)
    {
        if (value is null)
        {
            writer.WriteNull(name);
        }
        else
        {
            writer.WriteString(name, value);
        }
    }
}
