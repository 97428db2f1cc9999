using System.Text.Json;

namespace Evothesis.Collector.Events.Internal;

/// <summary>
/// The stored JSON shape of an event: one NDJSON line in object storage and one element of
/// <c>GET /events/recent</c>. Names follow the original collector's (<c>eventType</c>, <c>client_id</c>, ...).
/// </summary>
internal static class CollectedEventJson
{
    private static readonly JsonEncodedText IdName = JsonEncodedText.Encode("id");
    private static readonly JsonEncodedText EventIdName = JsonEncodedText.Encode("eventId");
    private static readonly JsonEncodedText EventTypeName = JsonEncodedText.Encode("eventType");
    private static readonly JsonEncodedText ClientIdName = JsonEncodedText.Encode("client_id");
    private static readonly JsonEncodedText SiteIdName = JsonEncodedText.Encode("siteId");
    private static readonly JsonEncodedText SessionIdName = JsonEncodedText.Encode("sessionId");
    private static readonly JsonEncodedText TimestampName = JsonEncodedText.Encode("timestamp");
    private static readonly JsonEncodedText ClientTimestampName = JsonEncodedText.Encode("client_timestamp");
    private static readonly JsonEncodedText ReceivedAtName = JsonEncodedText.Encode("received_at");
    private static readonly JsonEncodedText PageDataName = JsonEncodedText.Encode("page_data");
    private static readonly JsonEncodedText EventDataName = JsonEncodedText.Encode("event_data");
    private static readonly JsonEncodedText CustomDataName = JsonEncodedText.Encode("custom_data");
    private static readonly JsonEncodedText ConsentName = JsonEncodedText.Encode("consent");
    private static readonly JsonEncodedText IpName = JsonEncodedText.Encode("ip");
    private static readonly JsonEncodedText UserAgentName = JsonEncodedText.Encode("user_agent");

    public static void Write(Utf8JsonWriter writer, CollectedEvent e)
    {
        writer.WriteStartObject();
        writer.WriteString(IdName, e.Id);
        WriteNullableString(writer, EventIdName, e.EventId);
        writer.WriteString(EventTypeName, e.EventType);
        writer.WriteString(ClientIdName, e.ClientId);
        writer.WriteString(SiteIdName, e.SiteId);
        WriteNullableString(writer, SessionIdName, e.SessionId);
        writer.WriteString(TimestampName, e.Timestamp.ToUniversalTime());
        WriteNullableString(writer, ClientTimestampName, e.ClientTimestamp);
        writer.WriteString(ReceivedAtName, e.ReceivedAt.ToUniversalTime());
        writer.WritePropertyName(PageDataName);
        e.PageData.WriteTo(writer);
        writer.WritePropertyName(EventDataName);
        e.EventData.WriteTo(writer);
        writer.WritePropertyName(CustomDataName);
        e.CustomData.WriteTo(writer);
        writer.WritePropertyName(ConsentName);
        e.Consent.WriteTo(writer);
        WriteNullableString(writer, IpName, e.Ip);
        WriteNullableString(writer, UserAgentName, e.UserAgent);
        writer.WriteEndObject();
    }

    /// <summary>Reads one stored event.</summary>
    /// <exception cref="JsonException">The text is not a stored event.</exception>
    public static CollectedEvent Read(ReadOnlySpan<byte> utf8Json)
    {
        var reader = new Utf8JsonReader(utf8Json, RawJson.ReaderOptions);
        return Read(ref reader, utf8Json);
    }

    private static CollectedEvent Read(ref Utf8JsonReader reader, ReadOnlySpan<byte> source)
    {
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
        {
            throw new JsonException("A stored event must be a JSON object.");
        }

        Guid? id = null;
        string? eventId = null, eventType = null, clientId = null, siteId = null, sessionId = null;
        string? clientTimestamp = null, ip = null, userAgent = null;
        DateTimeOffset? timestamp = null, receivedAt = null;
        RawJson pageData = default, eventData = default, customData = default, consent = default;

        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals(IdName.EncodedUtf8Bytes)) { reader.Read(); id = reader.GetGuid(); }
            else if (reader.ValueTextEquals(EventIdName.EncodedUtf8Bytes)) { eventId = ReadNullableString(ref reader); }
            else if (reader.ValueTextEquals(EventTypeName.EncodedUtf8Bytes)) { eventType = ReadNullableString(ref reader); }
            else if (reader.ValueTextEquals(ClientIdName.EncodedUtf8Bytes)) { clientId = ReadNullableString(ref reader); }
            else if (reader.ValueTextEquals(SiteIdName.EncodedUtf8Bytes)) { siteId = ReadNullableString(ref reader); }
            else if (reader.ValueTextEquals(SessionIdName.EncodedUtf8Bytes)) { sessionId = ReadNullableString(ref reader); }
            else if (reader.ValueTextEquals(TimestampName.EncodedUtf8Bytes)) { reader.Read(); timestamp = reader.GetDateTimeOffset(); }
            else if (reader.ValueTextEquals(ClientTimestampName.EncodedUtf8Bytes)) { clientTimestamp = ReadNullableString(ref reader); }
            else if (reader.ValueTextEquals(ReceivedAtName.EncodedUtf8Bytes)) { reader.Read(); receivedAt = reader.GetDateTimeOffset(); }
            else if (reader.ValueTextEquals(PageDataName.EncodedUtf8Bytes)) { pageData = ReadRaw(ref reader, source); }
            else if (reader.ValueTextEquals(EventDataName.EncodedUtf8Bytes)) { eventData = ReadRaw(ref reader, source); }
            else if (reader.ValueTextEquals(CustomDataName.EncodedUtf8Bytes)) { customData = ReadRaw(ref reader, source); }
            else if (reader.ValueTextEquals(ConsentName.EncodedUtf8Bytes)) { consent = ReadRaw(ref reader, source); }
            else if (reader.ValueTextEquals(IpName.EncodedUtf8Bytes)) { ip = ReadNullableString(ref reader); }
            else if (reader.ValueTextEquals(UserAgentName.EncodedUtf8Bytes)) { userAgent = ReadNullableString(ref reader); }
            else
            {
                reader.Read();
                reader.Skip();
            }
        }

        if (id is null || eventType is null || clientId is null || siteId is null || timestamp is null || receivedAt is null)
        {
            throw new JsonException("A stored event needs id, eventType, client_id, siteId, timestamp and received_at.");
        }

        return new CollectedEvent
        {
            Id = id.Value,
            EventId = eventId,
            EventType = eventType,
            ClientId = clientId,
            SiteId = siteId,
            SessionId = sessionId,
            Timestamp = timestamp.Value.ToUniversalTime(),
            ClientTimestamp = clientTimestamp,
            ReceivedAt = receivedAt.Value.ToUniversalTime(),
            PageData = pageData,
            EventData = eventData,
            CustomData = customData,
            Consent = consent,
            Ip = ip,
            UserAgent = userAgent,
        };
    }

    private static void WriteNullableString(Utf8JsonWriter writer, JsonEncodedText name, string? value)
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

    private static string? ReadNullableString(ref Utf8JsonReader reader)
    {
        reader.Read();
        return reader.TokenType == JsonTokenType.Null ? null : reader.GetString();
    }

    private static RawJson ReadRaw(ref Utf8JsonReader reader, ReadOnlySpan<byte> source)
    {
        reader.Read();
        if (reader.TokenType == JsonTokenType.Null)
        {
            return default;
        }

        var start = (int)reader.TokenStartIndex;
        reader.Skip();
        var end = (int)reader.BytesConsumed;
        return RawJson.FromValidated(source[start..end].ToArray());
    }
}
