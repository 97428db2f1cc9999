using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Unicode;
using Evothesis.Collector.Events;

namespace Evothesis.Collector.Ingestion.Internal;

/// <summary>
/// Reads a <c>/collect</c> body (one event, or a <c>"batch"</c> envelope with an <c>events</c> array) in one
/// pass of <see cref="Utf8JsonReader"/>, checking every token against the limits and keeping the payloads
/// as slices of the body instead of parsing them into objects.
/// </summary>
/// <remarks>
/// A limit violation or malformed JSON refuses the whole request (<see cref="CollectorProblemException"/>).
/// An invalid member of a batch is rejected alone. Both name styles are accepted (<c>eventType</c> and
/// <c>event_type</c>, ...). Fields the contract does not name are kept in <see cref="CollectedEvent.CustomData"/>.
/// </remarks>
internal sealed class CollectRequestParser
{
    // Longer number texts are digit strings no analytics value needs, and past what stores accept.
    private const int MaxNumberLength = 256;

    // Exponents beyond any double's (±308, ±324 for the smallest) by a margin. PostgreSQL keeps a number's text
    // exactly: 1e-16383 (8 bytes) reads back as 16,392 characters, and 1e-20000 is refused there (parked).
    private const int MaxNumberExponent = 400;

    private static ReadOnlySpan<byte> Utf8ByteOrderMark => [0xEF, 0xBB, 0xBF];

    private readonly RequestLimitsOptions _limits;
    private readonly byte[] _body;
    private readonly int _start;
    private readonly int _length;

    // Set by token validation to the reason a value cannot be stored (a NUL or unpaired surrogate in a string,
    // a number no store can hold); saved and reset around each batch member so it lands on the member that
    // carries it.
    private string? _unstorable;

    // Whether any member of an "events" array carried an unstorable value: what counts when the body turns out
    // not to be a batch, and the array is one field of a single event.
    private bool _membersUnstorable;

    // A batch's members while it is parsed: reused by the thread's next request (a member is large, and a list grown
    // by doubling would cost more than the events it holds).
    [ThreadStatic]
    private static List<Member>? t_members;

    // The event types seen last, so a batch of clicks allocates the string "click" once: (UTF-8, string) pairs.
    private (byte[] Utf8, string Value)[]? _types;

    private CollectRequestParser(byte[] body, int start, int length, RequestLimitsOptions limits)
    {
        _body = body;
        _start = start;
        _length = length;
        _limits = limits;
    }

    /// <summary>Parses a body.</summary>
    /// <param name="body">The body; payload slices keep referring to it.</param>
    /// <param name="length">The number of bytes of <paramref name="body"/> that are the body.</param>
    /// <param name="limits">The limits.</param>
    /// <exception cref="CollectorProblemException">The request is refused as a whole.</exception>
    public static ParsedRequest Parse(byte[] body, int length, RequestLimitsOptions limits)
    {
        var start = body.AsSpan(0, length).StartsWith(Utf8ByteOrderMark) ? 3 : 0;
        var parser = new CollectRequestParser(body, start, length, limits);
        var reader = new Utf8JsonReader(
            body.AsSpan(start, length - start),
            new JsonReaderOptions { MaxDepth = limits.MaxJsonDepth + 1, CommentHandling = JsonCommentHandling.Disallow });
        try
        {
            return parser.ParseRoot(ref reader);
        }
        catch (JsonException ex)
        {
            throw Problems.Malformed($"The body is not valid JSON: {ex.Message}");
        }
    }

    /// <summary>
    /// Finds the <c>siteId</c> a body names at its top level (a batch envelope's, or a single event's) and counts a
    /// batch's members, in one pass that builds nothing: the site can be authorized, and an unauthorized one refused,
    /// before the body is parsed.
    /// </summary>
    /// <param name="body">The body.</param>
    /// <param name="length">The number of bytes of <paramref name="body"/> that are the body.</param>
    /// <param name="limits">The limits; only the nesting depth is checked here.</param>
    /// <param name="siteId">The top-level <c>siteId</c>, or <see langword="null"/> when there is none.</param>
    /// <param name="memberCount">The members of a batch's <c>events</c> array, or 1.</param>
    /// <returns><see langword="false"/> when the body is not a JSON object: <see cref="Parse"/> says why.</returns>
    public static bool TryScanSite(byte[] body, int length, RequestLimitsOptions limits, out string? siteId, out int memberCount)
    {
        siteId = null;
        memberCount = 1;
        var start = body.AsSpan(0, length).StartsWith(Utf8ByteOrderMark) ? 3 : 0;
        var reader = new Utf8JsonReader(
            body.AsSpan(start, length - start),
            new JsonReaderOptions { MaxDepth = limits.MaxJsonDepth + 1, CommentHandling = JsonCommentHandling.Disallow });
        try
        {
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return false;
            }

            var isBatch = false;
            var members = -1;
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (Is(ref reader, "siteId"u8, "site_id"u8))
                {
                    reader.Read();
                    if (reader.TokenType == JsonTokenType.String && reader.ValueSpan.Length <= limits.MaxStringLength)
                    {
                        siteId = GetStringOrNull(ref reader);
                    }

                    reader.Skip();
                }
                else if (Is(ref reader, "eventType"u8, "event_type"u8))
                {
                    reader.Read();
                    isBatch = reader.TokenType == JsonTokenType.String && reader.ValueSpan.Length == 5
                        && Ascii.EqualsIgnoreCase(reader.ValueSpan, "batch"u8);
                    reader.Skip();
                }
                else if (Is(ref reader, "events"u8, "events"u8))
                {
                    reader.Read();
                    if (reader.TokenType == JsonTokenType.StartArray)
                    {
                        members = 0;
                        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
                        {
                            members++;
                            reader.Skip();
                        }
                    }
                    else
                    {
                        reader.Skip();
                    }
                }
                else
                {
                    reader.Read();
                    reader.Skip();
                }
            }

            memberCount = isBatch && members >= 0 ? Math.Min(members, limits.MaxEventsPerBatch) : 1;
            return true;
        }
        catch (JsonException)
        {
            siteId = null;
            memberCount = 1;
            return false;
        }
    }

    private ParsedRequest ParseRoot(ref Utf8JsonReader reader)
    {
        if (!Next(ref reader))
        {
            throw Problems.Malformed("The body is empty.");
        }

        if (reader.TokenType != JsonTokenType.StartObject)
        {
            throw Problems.Malformed("The body must be a JSON object: one event, or a batch envelope with an 'events' array.");
        }

        var members = t_members ?? [];
        t_members = null;
        try
        {
            var envelope = new Fields { Members = members };
            return ParseEnvelope(ref reader, ref envelope);
        }
        finally
        {
            // What the members refer to (strings, slices) is not kept alive by the thread; a list grown by a huge batch
            // is not kept at all.
            members.Clear();
            if (members.Capacity <= 1024)
            {
                t_members = members;
            }
        }
    }

    private ParsedRequest ParseEnvelope(ref Utf8JsonReader reader, ref Fields envelope)
    {
        ReadObject(ref reader, ref envelope, isEnvelope: true);
        if (reader.Read())
        {
            throw Problems.Malformed("The body holds more than one JSON value.");
        }

        var isBatch = string.Equals(envelope.EventType, "batch", StringComparison.OrdinalIgnoreCase);
        if (isBatch && envelope.EventsOverflow)
        {
            throw new CollectorProblemException(
                413,
                ProblemTypes.TooManyEvents,
                "Too many events",
                $"A batch may carry at most {_limits.MaxEventsPerBatch} events.");
        }

        if (_unstorable is not null || (!isBatch && _membersUnstorable))
        {
            throw Problems.Malformed($"The body is invalid: {RejectionReasons.Describe(_unstorable ?? RejectionReasons.InvalidCharacter)}.");
        }

        if (isBatch)
        {
            return BuildBatch(ref envelope);
        }

        return BuildSingle(ref envelope);
    }

    private ParsedRequest BuildSingle(ref Fields fields)
    {
        if (fields.EventsArray is { } events)
        {
            // Not a batch: an "events" field is just another field of the event.
            (fields.Custom ??= []).Add(events);
        }

        var reason = fields.RejectReason();
        if (reason is not null)
        {
            throw new CollectorProblemException(400, ProblemTypes.InvalidEvent, "Invalid event", $"The event is invalid: {RejectionReasons.Describe(reason)}.");
        }

        var parsed = new ParsedEvent
        {
            Index = 0,
            EventType = fields.EventType!,
            EventId = fields.EventId,
            SessionId = fields.SessionId,
            SiteId = fields.SiteId,
            HasOwnSiteId = fields.SiteId is not null,
            ClientTimestamp = fields.ClientTimestamp,
            Timestamp = fields.Timestamp,
            PageData = fields.PageData,
            EventData = fields.EventData,
            Consent = fields.Consent,
            CustomData = BuildObject(fields.Custom),
        };

        return new ParsedRequest
        {
            IsBatch = false,
            MemberCount = 1,
            SiteId = fields.SiteId,
            SentAt = fields.SentAt,
            Events = [parsed],
            Rejected = [],
        };
    }

    private ParsedRequest BuildBatch(ref Fields envelope)
    {
        if (!envelope.EventsIsArray)
        {
            throw new CollectorProblemException(400, ProblemTypes.InvalidEvent, "Invalid batch", "A batch needs an 'events' array.");
        }

        var envelopeReason = envelope.InvalidReason;
        if (envelopeReason is not null)
        {
            throw new CollectorProblemException(400, ProblemTypes.InvalidEvent, "Invalid batch", $"The batch envelope is invalid: {RejectionReasons.Describe(envelopeReason)}.");
        }

        var members = envelope.Members!;
        var events = new List<ParsedEvent>(members.Count);
        var rejected = new List<Rejection>();
        CheckExpansion(ref envelope, members, _length);
        var inheritedCustom = BuildObject(envelope.Custom);
        string[]? inheritedNames = null;
        string? commonSiteId = null;
        var siteIdsAgree = true;

        foreach (var member in members)
        {
            var m = member.Fields;
            var reason = member.Reason ?? m.RejectReason();
            if (reason is null && string.Equals(m.EventType, "batch", StringComparison.OrdinalIgnoreCase))
            {
                reason = RejectionReasons.NestedBatch;
            }

            if (reason is not null)
            {
                rejected.Add(new Rejection(member.Index, reason));
                continue;
            }

            var siteId = m.SiteId ?? envelope.SiteId;
            if (siteIdsAgree && siteId is not null)
            {
                commonSiteId ??= siteId;
                siteIdsAgree = string.Equals(commonSiteId, siteId, StringComparison.Ordinal);
            }

            events.Add(new ParsedEvent
            {
                Index = member.Index,
                EventType = m.EventType!,
                EventId = m.EventId,
                SessionId = m.SessionId ?? envelope.SessionId,
                SiteId = siteId,
                HasOwnSiteId = m.SiteId is not null,
                ClientTimestamp = m.ClientTimestamp ?? envelope.ClientTimestamp,
                Timestamp = m.ClientTimestamp is not null ? m.Timestamp : envelope.Timestamp,
                PageData = m.PageData.IsNull ? envelope.PageData : m.PageData,
                EventData = m.EventData,
                Consent = m.Consent.IsNull ? envelope.Consent : m.Consent,
                CustomData = m.Custom is null ? inheritedCustom : Merge(m.Custom, envelope.Custom, ref inheritedNames),
            });
        }

        if (events.Count == 0 && rejected.Count > 0)
        {
            throw new CollectorProblemException(400, ProblemTypes.InvalidEvent, "Invalid batch", "No event of the batch is valid.")
            {
                Rejected = rejected,
            };
        }

        return new ParsedRequest
        {
            IsBatch = true,
            MemberCount = members.Count,
            SiteId = envelope.SiteId ?? (siteIdsAgree ? commonSiteId : null),
            SentAt = envelope.SentAt,
            Events = events,
            Rejected = rejected,
        };
    }

    private void ReadObject(ref Utf8JsonReader reader, ref Fields f, bool isEnvelope)
    {
        while (Next(ref reader) && reader.TokenType == JsonTokenType.PropertyName)
        {
            var propertyStart = (int)reader.TokenStartIndex;
            if (Is(ref reader, "eventType"u8, "event_type"u8))
            {
                Next(ref reader);
                if (reader.TokenType == JsonTokenType.String
                    && (isEnvelope ? GetStringOrNull(ref reader) : GetEventType(ref reader)) is { } type
                    && !string.IsNullOrWhiteSpace(type))
                {
                    f.EventType = type;
                    f.EventTypeInvalid = false;
                }
                else
                {
                    f.EventType = null;
                    f.EventTypeInvalid = reader.TokenType != JsonTokenType.Null;
                    SkipValue(ref reader);
                }
            }
            else if (Is(ref reader, "eventId"u8, "event_id"u8))
            {
                Next(ref reader);
                if (!TryReadIdentifier(ref reader, out f.EventId))
                {
                    f.InvalidReason ??= RejectionReasons.InvalidEventId;
                }
            }
            else if (Is(ref reader, "sessionId"u8, "session_id"u8))
            {
                Next(ref reader);
                if (!TryReadIdentifier(ref reader, out f.SessionId))
                {
                    f.InvalidReason ??= RejectionReasons.InvalidSessionId;
                }
            }
            else if (Is(ref reader, "siteId"u8, "site_id"u8))
            {
                Next(ref reader);
                if (reader.TokenType == JsonTokenType.String)
                {
                    f.SiteId = GetStringOrNull(ref reader);
                }
                else if (reader.TokenType != JsonTokenType.Null)
                {
                    f.InvalidReason ??= RejectionReasons.InvalidSiteId;
                    SkipValue(ref reader);
                }
            }
            else if (Is(ref reader, "timestamp"u8, "timestamp"u8))
            {
                Next(ref reader);
                ReadTimestamp(ref reader, out f.ClientTimestamp, out f.Timestamp);
            }
            else if (Is(ref reader, "sentAt"u8, "sent_at"u8))
            {
                Next(ref reader);
                ReadTimestamp(ref reader, out _, out f.SentAt);
            }
            else if (Is(ref reader, "pageData"u8, "page_data"u8))
            {
                Next(ref reader);
                if (!TryReadObjectSlice(ref reader, out f.PageData))
                {
                    f.InvalidReason ??= RejectionReasons.InvalidPageData;
                }
            }
            else if (Is(ref reader, "eventData"u8, "event_data"u8))
            {
                Next(ref reader);
                if (!TryReadObjectSlice(ref reader, out f.EventData))
                {
                    f.InvalidReason ??= RejectionReasons.InvalidEventData;
                }
            }
            else if (Is(ref reader, "consent"u8, "consent"u8))
            {
                Next(ref reader);
                f.Consent = ReadValueSlice(ref reader);
            }
            else if (isEnvelope && Is(ref reader, "events"u8, "events"u8))
            {
                if (f.EventsArray is not null)
                {
                    throw new CollectorProblemException(400, ProblemTypes.InvalidEvent, "Invalid batch", "The body has more than one 'events' member.");
                }

                Next(ref reader);
                f.EventsIsArray = reader.TokenType == JsonTokenType.StartArray;
                if (f.EventsIsArray)
                {
                    f.EventsOverflow = ReadMembers(ref reader, f.Members!);
                }
                else
                {
                    SkipValue(ref reader);
                }

                f.EventsArray = new CustomProperty(_start + propertyStart, _start + (int)reader.BytesConsumed);
            }
            else
            {
                Next(ref reader);
                SkipValue(ref reader);
                (f.Custom ??= []).Add(new CustomProperty(_start + propertyStart, _start + (int)reader.BytesConsumed));
            }
        }
    }

    // Returns whether the array holds more items than a batch may: whether that is an error is known only once the
    // envelope's eventType is read, which may come after the array (a single event may have an 'events' field of any
    // length). Items past the limit are checked like any value but not kept.
    private bool ReadMembers(ref Utf8JsonReader reader, List<Member> members)
    {
        var index = 0;
        var overflow = false;
        while (Next(ref reader) && reader.TokenType != JsonTokenType.EndArray)
        {
            if (index == _limits.MaxEventsPerBatch)
            {
                overflow = true;
                SkipValue(ref reader);
                continue;
            }

            var outerUnstorable = _unstorable;
            _unstorable = null;
            var fields = default(Fields);
            string? reason = null;
            if (reader.TokenType == JsonTokenType.StartObject)
            {
                ReadObject(ref reader, ref fields, isEnvelope: false);
            }
            else
            {
                reason = RejectionReasons.NotAnObject;
                SkipValue(ref reader);
            }

            if (_unstorable is not null)
            {
                reason = _unstorable;
                _membersUnstorable = true;
            }

            _unstorable = outerUnstorable;
            members.Add(new Member(index++, fields, reason));
        }

        return overflow;
    }

    private void ReadTimestamp(ref Utf8JsonReader reader, out string? text, out DateTimeOffset? value)
    {
        text = null;
        value = null;
        switch (reader.TokenType)
        {
            // The client's text is kept only when it is a timestamp: anything else is no time and could be
            // anything (a mistake, or personal data).
            case JsonTokenType.String:
                // ISO 8601 with a zone, as Date.toISOString() sends it: parsed from the UTF-8 bytes. Anything else goes
                // through the invariant culture's parser (its result for ISO 8601 with a zone is the same).
                if (!reader.ValueIsEscaped && EndsWithZone(reader.ValueSpan) && reader.TryGetDateTimeOffset(out var iso))
                {
                    value = iso.ToUniversalTime();
                    text = Encoding.UTF8.GetString(reader.ValueSpan);
                    break;
                }

                var candidate = GetStringOrNull(ref reader);
                if (DateTimeOffset.TryParse(
                    candidate,
                    CultureInfo.InvariantCulture,
                    DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal,
                    out var parsed))
                {
                    value = parsed;
                    text = candidate;
                }

                break;
            case JsonTokenType.Number:
                if (reader.TryGetDouble(out var number) && double.IsFinite(number))
                {
                    // JavaScript sends milliseconds (Date.now()); small values can only be seconds.
                    var milliseconds = Math.Abs(number) < 1e11 ? number * 1000 : number;
                    if (milliseconds is > -62_135_596_800_000d and < 253_402_300_799_000d)
                    {
                        value = DateTimeOffset.UnixEpoch.AddMilliseconds(milliseconds);
                        text = Encoding.UTF8.GetString(reader.ValueSpan);
                    }
                }

                break;
            case JsonTokenType.Null:
                break;
            default:
                SkipValue(ref reader);
                break;
        }
    }

    // 'Z' or a numeric offset (+hh:mm, -hh:mm) after a time: the reader's ISO 8601 parser would take a time without a
    // zone as local time, where the collector takes it as UTC.
    private static bool EndsWithZone(ReadOnlySpan<byte> value) =>
        value.Length > 10
        && (value[^1] is (byte)'Z' or (byte)'z'
            || (value.Length > 16 && value[^3] == (byte)':' && value[^6] is (byte)'+' or (byte)'-'));

    // Event types repeat within a batch: the string of one seen before (same UTF-8 bytes) is reused.
    private string? GetEventType(ref Utf8JsonReader reader)
    {
        if (reader.ValueIsEscaped || reader.ValueSpan.Length > 64)
        {
            return GetStringOrNull(ref reader);
        }

        var utf8 = reader.ValueSpan;
        _types ??= new (byte[], string)[4];
        for (var i = 0; i < _types.Length && _types[i].Utf8 is { } known; i++)
        {
            if (utf8.SequenceEqual(known))
            {
                return _types[i].Value;
            }
        }

        var value = GetStringOrNull(ref reader);
        if (value is not null)
        {
            // The newest first; the oldest of a full table is dropped.
            Array.Copy(_types, 0, _types, 1, _types.Length - 1);
            _types[0] = (utf8.ToArray(), value);
        }

        return value;
    }

    // A string or a number up to the identifier limit, or null. Anything else is refused and skipped whole: an object's
    // fields are never read as the event's.
    private bool TryReadIdentifier(ref Utf8JsonReader reader, out string? value)
    {
        switch (reader.TokenType)
        {
            case JsonTokenType.String:
                value = GetStringOrNull(ref reader);
                return value is not null && value.Length <= _limits.MaxIdentifierLength;
            case JsonTokenType.Number:
                value = Encoding.UTF8.GetString(reader.ValueSpan);
                return value.Length <= _limits.MaxIdentifierLength;
            case JsonTokenType.Null:
                value = null;
                return true;
            default:
                value = null;
                SkipValue(ref reader);
                return false;
        }
    }

    private bool TryReadObjectSlice(ref Utf8JsonReader reader, out RawJson value)
    {
        if (reader.TokenType == JsonTokenType.Null)
        {
            value = default;
            return true;
        }

        var isObject = reader.TokenType == JsonTokenType.StartObject;
        value = ReadValueSlice(ref reader);
        if (!isObject)
        {
            value = default;
        }

        return isObject;
    }

    private RawJson ReadValueSlice(ref Utf8JsonReader reader)
    {
        if (reader.TokenType == JsonTokenType.Null)
        {
            return default;
        }

        var start = (int)reader.TokenStartIndex;
        SkipValue(ref reader);
        return RawJson.FromValidated(_body.AsMemory(_start + start, (int)reader.BytesConsumed - start));
    }

    // Refuses a batch whose members would carry, once the envelope's page_data, consent, sessionId and custom fields
    // are copied into every member that lacks them, more than a small multiple of the body: what a request costs to
    // build, redact and store stays proportional to its size. Counted before anything is built, as if every inherited
    // field were copied (a member's own field of the same name only makes the copy smaller).
    private void CheckExpansion(ref Fields envelope, List<Member> members, int bodyLength)
    {
        long inheritedCustom = 0;
        if (envelope.Custom is { Count: > 0 } custom)
        {
            inheritedCustom = 1 + custom.Count;
            foreach (var property in custom)
            {
                inheritedCustom += property.Length;
            }
        }

        var envelopeSession = envelope.SessionId?.Length ?? 0;
        long total = 0;
        foreach (var member in members)
        {
            var m = member.Fields;
            total += Size(m.PageData.IsNull ? envelope.PageData : m.PageData)
                + Size(m.EventData)
                + Size(m.Consent.IsNull ? envelope.Consent : m.Consent)
                + (m.SessionId?.Length ?? envelopeSession)
                + inheritedCustom;
            if (m.Custom is not null)
            {
                foreach (var property in m.Custom)
                {
                    total += property.Length + 1;
                }
            }
        }

        var limit = ((long)_limits.MaxPayloadExpansion * bodyLength) + RequestLimitsOptions.PayloadExpansionAllowance;
        if (total > limit)
        {
            throw new CollectorProblemException(
                413,
                ProblemTypes.PayloadExpansionTooLarge,
                "Batch expands too much",
                $"With the envelope's fields copied into each member, the batch's events would carry {total} bytes, more than " +
                $"{_limits.MaxPayloadExpansion} times the body ({bodyLength} bytes) plus {RequestLimitsOptions.PayloadExpansionAllowance} " +
                "bytes. Send fields shared by many events in each event, or fewer events per batch.");
        }

        static int Size(RawJson value) => value.IsNull ? 0 : value.Utf8.Length;
    }

    // Builds one JSON object from raw property slices of the body.
    private RawJson BuildObject(List<CustomProperty>? properties)
    {
        if (properties is null || properties.Count == 0)
        {
            return default;
        }

        return Write(properties, properties.Count);
    }

    // Builds a member's custom object: its own properties, then the envelope's it does not override. The envelope's
    // names are read once per request; each member costs its own properties plus the envelope's, never their product.
    private RawJson Merge(List<CustomProperty> own, List<CustomProperty>? inherited, ref string[]? inheritedNames)
    {
        if (inherited is null || inherited.Count == 0)
        {
            return BuildObject(own);
        }

        if (inheritedNames is null)
        {
            inheritedNames = new string[inherited.Count];
            for (var i = 0; i < inherited.Count; i++)
            {
                inheritedNames[i] = NameOf(inherited[i]);
            }
        }

        var ownNames = new HashSet<string>(own.Count, StringComparer.Ordinal);
        foreach (var property in own)
        {
            ownNames.Add(NameOf(property));
        }

        var keep = new bool[inherited.Count];
        var kept = 0;
        for (var i = 0; i < inherited.Count; i++)
        {
            keep[i] = !ownNames.Contains(inheritedNames[i]);
            kept += keep[i] ? 1 : 0;
        }

        if (kept == 0)
        {
            return BuildObject(own);
        }

        var selected = new List<CustomProperty>(own.Count + kept);
        selected.AddRange(own);
        for (var i = 0; i < inherited.Count; i++)
        {
            if (keep[i])
            {
                selected.Add(inherited[i]);
            }
        }

        return Write(selected, selected.Count);
    }

    private RawJson Write(List<CustomProperty> properties, int count)
    {
        var length = 2 + count - 1;
        for (var i = 0; i < count; i++)
        {
            length += properties[i].Length;
        }

        var buffer = new byte[length];
        buffer[0] = (byte)'{';
        var position = 1;
        for (var i = 0; i < count; i++)
        {
            if (i > 0)
            {
                buffer[position++] = (byte)',';
            }

            var slice = _body.AsSpan(properties[i].Start, properties[i].Length);
            slice.CopyTo(buffer.AsSpan(position));
            position += slice.Length;
        }

        buffer[position] = (byte)'}';
        return RawJson.FromValidated(buffer);
    }

    // The unescaped name of a property slice (which starts with the name's opening quote).
    private string NameOf(CustomProperty property)
    {
        var reader = new Utf8JsonReader(_body.AsSpan(property.Start, property.Length));
        reader.Read();
        return GetStringOrNull(ref reader) ?? Encoding.UTF8.GetString(reader.ValueSpan);
    }

    // A string with an unpaired surrogate escape cannot become a .NET string; the token check has already marked what
    // carries it as unstorable, so it is refused as such instead of failing the request.
    private static string? GetStringOrNull(ref Utf8JsonReader reader)
    {
        try
        {
            return reader.GetString();
        }
        catch (InvalidOperationException)
        {
            return null;
        }
    }

    private void SkipValue(ref Utf8JsonReader reader)
    {
        if (reader.TokenType is not (JsonTokenType.StartObject or JsonTokenType.StartArray))
        {
            return;
        }

        var depth = reader.CurrentDepth;
        while (Next(ref reader))
        {
            if (reader.CurrentDepth == depth && reader.TokenType is JsonTokenType.EndObject or JsonTokenType.EndArray)
            {
                return;
            }
        }
    }

    // Every token of the body passes here exactly once: this is where the limits are enforced.
    private bool Next(ref Utf8JsonReader reader)
    {
        if (!reader.Read())
        {
            return false;
        }

        switch (reader.TokenType)
        {
            case JsonTokenType.StartObject or JsonTokenType.StartArray:
                if (reader.CurrentDepth >= _limits.MaxJsonDepth)
                {
                    throw new CollectorProblemException(
                        400,
                        ProblemTypes.JsonTooDeep,
                        "JSON nested too deeply",
                        $"The body nests JSON deeper than {_limits.MaxJsonDepth} levels.");
                }

                break;
            case JsonTokenType.String or JsonTokenType.PropertyName:
                CheckString(ref reader);
                break;
            case JsonTokenType.Number:
                // PostgreSQL's numeric refuses what overflows it; a finite double is what every store and every
                // JavaScript sender agrees on.
                if (reader.ValueSpan.Length > MaxNumberLength || !reader.TryGetDouble(out var number) || !double.IsFinite(number)
                    || HasExponentBeyondLimit(reader.ValueSpan))
                {
                    _unstorable ??= RejectionReasons.InvalidNumber;
                }

                break;
        }

        return true;
    }

    // The number is valid JSON (at most MaxNumberLength bytes): an optional exponent follows 'e' or 'E'.
    private static bool HasExponentBeyondLimit(ReadOnlySpan<byte> number)
    {
        var e = number.IndexOfAny((byte)'e', (byte)'E');
        if (e < 0)
        {
            return false;
        }

        var digits = number[(e + 1)..];
        if (digits[0] is (byte)'+' or (byte)'-')
        {
            digits = digits[1..];
        }

        var exponent = 0;
        foreach (var digit in digits.TrimStart((byte)'0'))
        {
            exponent = (exponent * 10) + (digit - '0');
            if (exponent > MaxNumberExponent)
            {
                return true;
            }
        }

        return false;
    }

    private void CheckString(ref Utf8JsonReader reader)
    {
        var raw = reader.ValueSpan;
        if (!reader.ValueIsEscaped)
        {
            if (raw.Length > _limits.MaxStringLength)
            {
                throw StringTooLong();
            }

            if (!Utf8.IsValid(raw))
            {
                throw Problems.Malformed("The body is not valid UTF-8.");
            }

            return;
        }

        if (!HasStorableEscapes(raw))
        {
            _unstorable ??= RejectionReasons.InvalidCharacter;
        }

        if (raw.Length <= _limits.MaxStringLength)
        {
            // Unescaping never makes a string longer.
            return;
        }

        var buffer = ArrayPool<byte>.Shared.Rent(raw.Length);
        try
        {
            int written;
            try
            {
                written = reader.CopyString(buffer);
            }
            catch (InvalidOperationException)
            {
                _unstorable ??= RejectionReasons.InvalidCharacter;
                return;
            }

            if (written > _limits.MaxStringLength)
            {
                throw StringTooLong();
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private CollectorProblemException StringTooLong() => new(
        400,
        ProblemTypes.StringTooLong,
        "String too long",
        $"The body contains a string longer than {_limits.MaxStringLength} bytes.");

    // PostgreSQL's text and jsonb, and many other stores, refuse NUL and unpaired UTF-16 surrogates, which
    // JSON can only carry as \u escapes. The rest of an escaped string is checked like any other.
    private static bool HasStorableEscapes(ReadOnlySpan<byte> raw)
    {
        var i = 0;
        while (i < raw.Length)
        {
            var b = raw[i];
            if (b != (byte)'\\')
            {
                var next = raw[i..].IndexOf((byte)'\\');
                var run = next < 0 ? raw[i..] : raw.Slice(i, next);
                if (!Utf8.IsValid(run))
                {
                    return false;
                }

                i += run.Length;
                continue;
            }

            if (raw[i + 1] != (byte)'u')
            {
                i += 2;
                continue;
            }

            var unit = ParseHex4(raw.Slice(i + 2, 4));
            if (unit == 0)
            {
                return false;
            }

            if (unit is >= 0xD800 and <= 0xDBFF)
            {
                if (i + 12 > raw.Length || raw[i + 6] != (byte)'\\' || raw[i + 7] != (byte)'u'
                    || ParseHex4(raw.Slice(i + 8, 4)) is < 0xDC00 or > 0xDFFF)
                {
                    return false;
                }

                i += 12;
                continue;
            }

            if (unit is >= 0xDC00 and <= 0xDFFF)
            {
                return false;
            }

            i += 6;
        }

        return true;
    }

    private static int ParseHex4(ReadOnlySpan<byte> hex)
    {
        var value = 0;
        foreach (var b in hex)
        {
            value = (value << 4) | HexDigit(b);
        }

        return value;

        static int HexDigit(byte b) => b switch
        {
            >= (byte)'0' and <= (byte)'9' => b - '0',
            >= (byte)'a' and <= (byte)'f' => b - 'a' + 10,
            _ => b - 'A' + 10,
        };
    }

    // A name with an unpaired surrogate escape names no field of the contract (and is marked unstorable by the token
    // check); comparing it must not fail the request.
    private static bool Is(ref Utf8JsonReader reader, ReadOnlySpan<byte> camel, ReadOnlySpan<byte> snake)
    {
        try
        {
            return reader.ValueTextEquals(camel) || (camel != snake && reader.ValueTextEquals(snake));
        }
        catch (InvalidOperationException)
        {
            return false;
        }
    }

    // A property of an object the contract does not name, as a slice of the body from its name's opening quote to the
    // end of its value. Its name is read only when an envelope property has to be merged with a member's own.
    private readonly record struct CustomProperty(int Start, int End)
    {
        public int Length => End - Start;
    }

    private readonly record struct Member(int Index, Fields Fields, string? Reason);

    private struct Fields
    {
        public string? EventType;
        public bool EventTypeInvalid;
        public string? EventId;
        public string? SessionId;
        public string? SiteId;
        public string? ClientTimestamp;
        public DateTimeOffset? Timestamp;
        public DateTimeOffset? SentAt;
        public RawJson PageData;
        public RawJson EventData;
        public RawJson Consent;
        public List<CustomProperty>? Custom;
        public string? InvalidReason;
        public List<Member>? Members;
        public CustomProperty? EventsArray;
        public bool EventsIsArray;
        public bool EventsOverflow;

        public readonly string? RejectReason()
        {
            if (EventTypeInvalid)
            {
                return RejectionReasons.InvalidEventType;
            }

            if (EventType is null)
            {
                return RejectionReasons.MissingEventType;
            }

            return InvalidReason;
        }
    }

    private static class Problems
    {
        public static CollectorProblemException Malformed(string detail) =>
            new(400, ProblemTypes.MalformedBody, "Malformed body", detail);
    }
}
