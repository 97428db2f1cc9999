using System.Buffers;
using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using System.Text;
using System.Text.Json;
using Evothesis.Collector.Events;

namespace Evothesis.Collector.Privacy.Internal;

/// <summary>
/// Redacts a JSON payload in one <see cref="Utf8JsonReader"/> pass. Values that need it are collected as
/// splices; when there are none the payload is returned as it is, with no allocation; otherwise a copy is made
/// with each splice's bytes replaced, so everything else (order, numbers, escapes) stays byte for byte.
/// </summary>
/// <remarks>
/// Rules, innermost first: a value under a secret key is replaced whole (<c>[redacted:secret]</c>, or the
/// marker of the personal data it holds); in a form event's payload, values are replaced with
/// <c>[redacted:form_value]</c> unless their key is metadata; every other string goes through the
/// <see cref="TextRedactor"/>, and integers that are card numbers are replaced. Property names are kept
/// unless they themselves hold personal data. Booleans and nulls under secret keys stay: they hold no secret.
/// </remarks>
internal sealed class JsonRedactor
{
    private const int MaxPathLength = 200;

    private readonly NameClassifier _names;
    private readonly TextRedactor _text;

    public JsonRedactor(PrivacyOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var secrets = options.UseDefaultSecretKeys ? PrivacyOptions.DefaultSecretKeys.Concat(options.SecretKeys) : options.SecretKeys;
        _names = new NameClassifier(secrets, PrivacyOptions.DefaultFormMetadataKeys.Concat(options.FormMetadataKeys));
        _text = new TextRedactor(_names);
    }

    /// <summary>Redacts a payload.</summary>
    /// <param name="value">The payload.</param>
    /// <param name="field">The payload's stored name (<c>event_data</c>), the root of audit locations.</param>
    /// <param name="formValues">Whether the form rule applies: values are redacted unless their key is metadata.</param>
    /// <param name="recorder">Told what was redacted.</param>
    /// <returns>The redacted payload; <paramref name="value"/> itself when nothing needed redaction.</returns>
    public RawJson Redact(RawJson value, string field, bool formValues, RedactionRecorder recorder)
    {
        if (value.IsNull)
        {
            return value;
        }

        var scratch = RedactionScratch.Rent();
        try
        {
            var source = value.Utf8.Span;
            Scan(source, field, formValues, recorder.CollectLocations, scratch);
            var splices = scratch.Splices;
            if (splices.Count == 0)
            {
                return value;
            }

            var replacements = scratch.Replacements.WrittenSpan;
            var length = source.Length;
            foreach (var s in splices)
            {
                if (s.Mask != 0)
                {
                    length += s.ReplacementLength - (s.End - s.Start);
                }
            }

            var output = new byte[length];
            var position = 0;
            var written = 0;
            foreach (var s in splices)
            {
                if (s.Mask == 0)
                {
                    continue;
                }

                source[position..s.Start].CopyTo(output.AsSpan(written));
                written += s.Start - position;
                replacements.Slice(s.ReplacementStart, s.ReplacementLength).CopyTo(output.AsSpan(written));
                written += s.ReplacementLength;
                position = s.End;
                recorder.Record(s.Mask, s.Path);
            }

            source[position..].CopyTo(output.AsSpan(written));
            Debug.Assert(written + (source.Length - position) == length, "The splices account for every byte.");
            return RawJson.FromValidated(output);
        }
        finally
        {
            RedactionScratch.Return(scratch);
        }
    }

    /// <summary>
    /// Redacts a stored string that is not JSON (<c>sessionId</c>, <c>eventId</c>, <c>eventType</c>) with the
    /// text rules every payload string gets: the patterns (email, phone, card, SSN, IBAN) and, for URLs,
    /// credentials and query parameters. The form and secret-key rules need a property name, which such a
    /// field does not have.
    /// </summary>
    /// <param name="value">The text.</param>
    /// <param name="field">The field's stored name, the audit location.</param>
    /// <param name="recorder">Told what was redacted; <see langword="null"/> to record nothing.</param>
    /// <param name="redacted">The redacted text, when something was redacted.</param>
    /// <returns>Whether anything was redacted.</returns>
    public bool TryRedactText(string value, string field, RedactionRecorder? recorder, [NotNullWhen(true)] out string? redacted)
    {
        ArgumentNullException.ThrowIfNull(value);
        redacted = null;
        if (value.Length == 0)
        {
            return false;
        }

        // Identifiers and event types are short: they are encoded on the stack and, without a trigger byte,
        // cost nothing more. The parser caps them at 8 KB, which the pool serves.
        const int StackBytes = 256;
        var maxBytes = Encoding.UTF8.GetMaxByteCount(value.Length);
        byte[]? rented = null;
        var buffer = maxBytes <= StackBytes ? stackalloc byte[StackBytes] : (rented = ArrayPool<byte>.Shared.Rent(maxBytes));
        try
        {
            var utf8 = buffer[..Encoding.UTF8.GetBytes(value, buffer)];
            if (!TextRedactor.MayNeedRedaction(utf8))
            {
                return false;
            }

            var scratch = RedactionScratch.Rent();
            try
            {
                var output = scratch.Text;
                output.ResetWrittenCount();
                var mask = _text.Redact(utf8, output, scratch);
                if (mask == 0)
                {
                    return false;
                }

                recorder?.Record(mask, field);
                redacted = Encoding.UTF8.GetString(output.WrittenSpan);
                return true;
            }
            finally
            {
                RedactionScratch.Return(scratch);
            }
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }

    private void Scan(ReadOnlySpan<byte> source, string field, bool formValues, bool collectLocations, RedactionScratch scratch)
    {
        var reader = new Utf8JsonReader(source, RawJson.ReaderOptions);
        var frames = scratch.Frames;
        while (reader.Read())
        {
            switch (reader.TokenType)
            {
                case JsonTokenType.PropertyName:
                    OnPropertyName(ref reader, source, collectLocations, field, scratch);
                    break;
                case JsonTokenType.StartObject or JsonTokenType.StartArray:
                    var (secret, metadata, form) = CurrentRules(frames, formValues);
                    frames.Add(new RedactionFrame
                    {
                        IsArray = reader.TokenType == JsonTokenType.StartArray,
                        Secret = secret,
                        Metadata = metadata,
                        Form = form,
                        FirstSplice = scratch.Splices.Count,
                    });
                    break;
                case JsonTokenType.EndObject or JsonTokenType.EndArray:
                    ResolveConditionals(frames[^1], scratch.Splices);
                    frames.RemoveAt(frames.Count - 1);
                    break;
                case JsonTokenType.String:
                    OnString(ref reader, source, formValues, collectLocations, field, scratch);
                    break;
                case JsonTokenType.Number:
                    OnScalar(ref reader, source, formValues, collectLocations, field, scratch, isNumber: true);
                    break;
                case JsonTokenType.True or JsonTokenType.False:
                    OnScalar(ref reader, source, formValues, collectLocations, field, scratch, isNumber: false);
                    break;
            }
        }
    }

    // The rules for the container about to open: those of its property, or of the array holding it. Inside a
    // form container (formData, form_fields, ...) the form rule applies whatever the event type.
    private static (bool Secret, bool Metadata, bool Form) CurrentRules(List<RedactionFrame> frames, bool formValues)
    {
        if (frames.Count == 0)
        {
            return (false, !formValues, formValues);
        }

        var frame = frames[^1];
        return frame.IsArray
            ? (frame.Secret, frame.Metadata, frame.Form)
            : (frame.NameSecret, frame.NameMetadata, frame.Form || !frame.NameMetadata);
    }

    private void OnPropertyName(ref Utf8JsonReader reader, ReadOnlySpan<byte> source, bool collectLocations, string field, RedactionScratch scratch)
    {
        var frames = scratch.Frames;
        var index = frames.Count - 1;
        var frame = frames[index];
        var name = Unescape(ref reader, scratch);
        frame.NameStart = (int)reader.TokenStartIndex + 1;
        frame.NameLength = reader.ValueSpan.Length;
        frame.NameMask = 0;
        var flags = _names.Classify(name);
        frame.NameSecret = frame.Secret || (flags & NameFlags.Secret) != 0;
        frame.NameDescriptor = false;
        if (frame.Form)
        {
            frame.NameMetadata = frame.Metadata || (flags & NameFlags.FormMetadata) != 0 || (index == 0 && (flags & NameFlags.PageContext) != 0);
            frame.NameDescriptor = !frame.NameMetadata && (flags & NameFlags.Descriptor) != 0;
            frame.HasValueHolder |= (flags & NameFlags.ValueHolder) != 0;
        }
        else
        {
            frame.NameMetadata = (flags & NameFlags.FormContainer) == 0;
        }

        // A property name is kept, unless it is itself personal data ({"jane@example.com": 3}).
        if (TextRedactor.MayNeedRedaction(name))
        {
            var text = scratch.Text;
            text.ResetWrittenCount();
            var mask = _text.Redact(name, text, scratch);
            if (mask != 0)
            {
                frame.NameMask = mask;
                frames[index] = frame;
                AddSplice(scratch, (int)reader.TokenStartIndex, (int)reader.TokenStartIndex + reader.ValueSpan.Length + 2, text.WrittenSpan, mask, collectLocations ? BuildPath(field, frames, source) : null);
                return;
            }
        }

        frames[index] = frame;
    }

    private void OnString(ref Utf8JsonReader reader, ReadOnlySpan<byte> source, bool formValues, bool collectLocations, string field, RedactionScratch scratch)
    {
        var (secret, metadata, descriptor) = ValueRules(scratch.Frames, formValues);
        var start = (int)reader.TokenStartIndex;
        var end = start + reader.ValueSpan.Length + 2;
        if (reader.ValueSpan.Length == 0)
        {
            return;
        }

        // In a form event a value is a form value whatever its key says; elsewhere a secret key's value goes whole.
        var text = Unescape(ref reader, scratch);
        if (secret && (metadata || descriptor))
        {
            var kind = TextRedactor.TryFindFirst(text, scratch, out var found) ? found : PiiKind.Secret;
            AddMarker(scratch, start, end, kind, Path(collectLocations, field, scratch, source));
            return;
        }

        var mask = 0;
        var fallbackStart = 0;
        var fallbackLength = 0;
        if ((metadata || descriptor) && TextRedactor.MayNeedRedaction(text))
        {
            var output = scratch.Text;
            output.ResetWrittenCount();
            mask = _text.Redact(text, output, scratch);
            if (mask != 0)
            {
                fallbackStart = scratch.Replacements.WrittenCount;
                fallbackLength = WriteJsonString(scratch, output.WrittenSpan);
            }
        }

        if (!metadata)
        {
            var path = Path(collectLocations, field, scratch, source);
            var splice = MarkerSplice(scratch, start, end, PiiKind.FormValue, path);
            if (descriptor)
            {
                splice.Conditional = true;
                splice.FallbackStart = fallbackStart;
                splice.FallbackLength = fallbackLength;
                splice.FallbackMask = mask;
            }

            scratch.Splices.Add(splice);
            return;
        }

        if (mask != 0)
        {
            scratch.Splices.Add(new RedactionSplice
            {
                Start = start,
                End = end,
                ReplacementStart = fallbackStart,
                ReplacementLength = fallbackLength,
                Mask = mask,
                Path = Path(collectLocations, field, scratch, source),
            });
        }
    }

    private static void OnScalar(ref Utf8JsonReader reader, ReadOnlySpan<byte> source, bool formValues, bool collectLocations, string field, RedactionScratch scratch, bool isNumber)
    {
        var (secret, metadata, descriptor) = ValueRules(scratch.Frames, formValues);
        var start = (int)reader.TokenStartIndex;
        var end = start + reader.ValueSpan.Length;
        var card = isNumber && PiiPatterns.IsCardNumber(reader.ValueSpan);
        PiiKind? kind = card ? PiiKind.Card : isNumber && secret ? PiiKind.Secret : null;
        if (!metadata)
        {
            // A number or a checkbox's state typed into a form is a form value too.
            var path = Path(collectLocations, field, scratch, source);
            var splice = MarkerSplice(scratch, start, end, PiiKind.FormValue, path);
            if (descriptor)
            {
                splice.Conditional = true;
                if (kind is { } fallback)
                {
                    var marker = MarkerSplice(scratch, start, end, fallback, path);
                    (splice.FallbackStart, splice.FallbackLength, splice.FallbackMask) = (marker.ReplacementStart, marker.ReplacementLength, marker.Mask);
                }
            }

            scratch.Splices.Add(splice);
            return;
        }

        if (kind is { } k)
        {
            AddMarker(scratch, start, end, k, Path(collectLocations, field, scratch, source));
        }
    }

    private static (bool Secret, bool Metadata, bool Descriptor) ValueRules(List<RedactionFrame> frames, bool formValues)
    {
        if (frames.Count == 0)
        {
            return (false, !formValues, false);
        }

        var frame = frames[^1];
        return frame.IsArray
            ? (frame.Secret, frame.Metadata, false)
            : (frame.NameSecret, frame.NameMetadata, frame.NameDescriptor);
    }

    // When an object closes, its descriptors are settled: kept (with pattern redaction) when the object held a
    // field's value, redacted otherwise. Nested objects settled theirs when they closed.
    private static void ResolveConditionals(RedactionFrame frame, List<RedactionSplice> splices)
    {
        if (frame.IsArray)
        {
            return;
        }

        for (var i = frame.FirstSplice; i < splices.Count; i++)
        {
            var s = splices[i];
            if (!s.Conditional)
            {
                continue;
            }

            s.Conditional = false;
            if (frame.HasValueHolder)
            {
                s.ReplacementStart = s.FallbackStart;
                s.ReplacementLength = s.FallbackLength;
                s.Mask = s.FallbackMask;
            }

            splices[i] = s;
        }
    }

    private static string? Path(bool collectLocations, string field, RedactionScratch scratch, ReadOnlySpan<byte> source) =>
        collectLocations ? BuildPath(field, scratch.Frames, source) : null;

    // "event_data.fields.email", "page_data.items[].note": never a value; a name that was itself redacted
    // appears as its marker.
    private static string BuildPath(string field, List<RedactionFrame> frames, ReadOnlySpan<byte> source)
    {
        var builder = new StringBuilder(field, 64);
        foreach (var frame in frames)
        {
            if (builder.Length > MaxPathLength)
            {
                break;
            }

            if (frame.IsArray)
            {
                builder.Append("[]");
            }
            else if (frame.NameMask != 0)
            {
                builder.Append('.').Append(Encoding.UTF8.GetString(PiiKinds.Marker((PiiKind)System.Numerics.BitOperations.TrailingZeroCount(frame.NameMask))));
            }
            else if (frame.NameLength > 0)
            {
                builder.Append('.').Append(Encoding.UTF8.GetString(source.Slice(frame.NameStart, frame.NameLength)));
            }
        }

        return builder.Length > MaxPathLength ? builder.ToString(0, MaxPathLength) : builder.ToString();
    }

    private static ReadOnlySpan<byte> Unescape(ref Utf8JsonReader reader, RedactionScratch scratch)
    {
        if (!reader.ValueIsEscaped)
        {
            return reader.ValueSpan;
        }

        var buffer = scratch.Unescaped;
        buffer.ResetWrittenCount();
        var written = reader.CopyString(buffer.GetSpan(reader.ValueSpan.Length));
        buffer.Advance(written);
        return buffer.WrittenSpan;
    }

    private static void AddMarker(RedactionScratch scratch, int start, int end, PiiKind kind, string? path) =>
        scratch.Splices.Add(MarkerSplice(scratch, start, end, kind, path));

    private static RedactionSplice MarkerSplice(RedactionScratch scratch, int start, int end, PiiKind kind, string? path)
    {
        var replacementStart = scratch.Replacements.WrittenCount;
        scratch.Replacements.Write(PiiKinds.JsonMarker(kind));
        return new RedactionSplice
        {
            Start = start,
            End = end,
            ReplacementStart = replacementStart,
            ReplacementLength = PiiKinds.JsonMarker(kind).Length,
            Mask = 1 << (int)kind,
            Path = path,
        };
    }

    private static void AddSplice(RedactionScratch scratch, int start, int end, ReadOnlySpan<byte> text, int mask, string? path)
    {
        var replacementStart = scratch.Replacements.WrittenCount;
        var length = WriteJsonString(scratch, text);
        scratch.Splices.Add(new RedactionSplice
        {
            Start = start,
            End = end,
            ReplacementStart = replacementStart,
            ReplacementLength = length,
            Mask = mask,
            Path = path,
        });
    }

    private static int WriteJsonString(RedactionScratch scratch, ReadOnlySpan<byte> text)
    {
        var before = scratch.Replacements.WrittenCount;
        var writer = scratch.Writer;
        writer.Reset(scratch.Replacements);
        writer.WriteStringValue(text);
        writer.Flush();
        return scratch.Replacements.WrittenCount - before;
    }
}
