using System.Diagnostics;
using System.Text;
using System.Text.Json;

namespace Evothesis.Collector.Events;

/// <summary>
/// A JSON value kept as the UTF-8 text it arrived in, so events move from the request body to the sinks
/// without being parsed into objects and written back.
/// </summary>
/// <remarks>
/// The collector only creates instances from JSON it has validated; <see cref="Parse(string)"/> validates
/// text from other sources. <see cref="IsNull"/> is <see langword="true"/> for the default value and for a
/// JSON <c>null</c>, which are stored alike.
/// </remarks>
[DebuggerDisplay("{ToString(),nq}")]
public readonly struct RawJson : IEquatable<RawJson>
{
    private static readonly byte[] NullLiteral = "null"u8.ToArray();

    private readonly ReadOnlyMemory<byte> _utf8;

    private RawJson(ReadOnlyMemory<byte> utf8) => _utf8 = utf8;

    /// <summary>Gets the absent value, written as JSON <c>null</c>.</summary>
    public static RawJson Null => default;

    /// <summary>Gets a value indicating whether the value is absent or JSON <c>null</c>.</summary>
    public bool IsNull => _utf8.IsEmpty;

    /// <summary>Gets the UTF-8 JSON text; <c>null</c> for an absent value.</summary>
    public ReadOnlyMemory<byte> Utf8 => _utf8.IsEmpty ? NullLiteral : _utf8;

    /// <summary>Gets the kind of the JSON value.</summary>
    public JsonValueKind ValueKind
    {
        get
        {
            if (_utf8.IsEmpty)
            {
                return JsonValueKind.Null;
            }

            return _utf8.Span[0] switch
            {
                (byte)'{' => JsonValueKind.Object,
                (byte)'[' => JsonValueKind.Array,
                (byte)'"' => JsonValueKind.String,
                (byte)'t' => JsonValueKind.True,
                (byte)'f' => JsonValueKind.False,
                (byte)'n' => JsonValueKind.Null,
                _ => JsonValueKind.Number,
            };
        }
    }

    /// <summary>Parses and validates JSON text.</summary>
    /// <param name="json">The JSON text.</param>
    /// <returns>The value.</returns>
    /// <exception cref="JsonException"><paramref name="json"/> is not one valid JSON value.</exception>
    public static RawJson Parse(string json)
    {
        ArgumentNullException.ThrowIfNull(json);
        return Parse(Encoding.UTF8.GetBytes(json));
    }

    /// <summary>Parses and validates UTF-8 JSON text. The bytes are copied.</summary>
    /// <param name="utf8Json">The UTF-8 JSON text.</param>
    /// <returns>The value.</returns>
    /// <exception cref="JsonException"><paramref name="utf8Json"/> is not one valid JSON value.</exception>
    public static RawJson Parse(ReadOnlySpan<byte> utf8Json)
    {
        var reader = new Utf8JsonReader(utf8Json, ReaderOptions);
        if (!reader.Read())
        {
            throw new JsonException("The input holds no JSON value.");
        }

        reader.Skip();
        if (reader.Read())
        {
            throw new JsonException("The input holds more than one JSON value.");
        }

        var trimmed = utf8Json.Trim(" \t\r\n"u8);
        return FromValidated(trimmed.SequenceEqual("null"u8) ? default : trimmed.ToArray());
    }

    /// <summary>Returns the value as a <see cref="JsonElement"/> that does not depend on this instance.</summary>
    /// <returns>The element.</returns>
    public JsonElement ToJsonElement()
    {
        using var document = JsonDocument.Parse(Utf8, new JsonDocumentOptions { MaxDepth = ReaderOptions.MaxDepth });
        return document.RootElement.Clone();
    }

    /// <summary>Writes the value to a JSON writer.</summary>
    /// <param name="writer">The writer.</param>
    public void WriteTo(Utf8JsonWriter writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        if (_utf8.IsEmpty)
        {
            writer.WriteNullValue();
        }
        else if (_utf8.Span.IndexOfAny((byte)'\n', (byte)'\r') >= 0)
        {
            // A pretty-printed body keeps its line breaks in the slices taken from it; written as they are, they
            // would split a stored NDJSON line in two.
            writer.WriteRawValue(Minify(_utf8.Span), skipInputValidation: true);
        }
        else
        {
            writer.WriteRawValue(_utf8.Span, skipInputValidation: true);
        }
    }

    /// <summary>Returns the JSON text.</summary>
    /// <returns>The JSON text.</returns>
    public override string ToString() => Encoding.UTF8.GetString(Utf8.Span);

    /// <inheritdoc />
    public bool Equals(RawJson other) => Utf8.Span.SequenceEqual(other.Utf8.Span);

    /// <inheritdoc />
    public override bool Equals(object? obj) => obj is RawJson other && Equals(other);

    /// <inheritdoc />
    public override int GetHashCode()
    {
        var hash = new HashCode();
        hash.AddBytes(Utf8.Span);
        return hash.ToHashCode();
    }

    /// <summary>Compares two values by their JSON text.</summary>
    /// <param name="left">The first value.</param>
    /// <param name="right">The second value.</param>
    /// <returns><see langword="true"/> when the texts are equal.</returns>
    public static bool operator ==(RawJson left, RawJson right) => left.Equals(right);

    /// <summary>Compares two values by their JSON text.</summary>
    /// <param name="left">The first value.</param>
    /// <param name="right">The second value.</param>
    /// <returns><see langword="true"/> when the texts differ.</returns>
    public static bool operator !=(RawJson left, RawJson right) => !left.Equals(right);

    /// <summary>
    /// Options for readers of JSON the collector accepted: as deep as <c>RequestLimitsOptions.MaxJsonDepth</c> allows (at
    /// most 256 levels), inside a stored event's own object. System.Text.Json stops at 64 levels unless told.
    /// </summary>
    internal static JsonReaderOptions ReaderOptions => new() { MaxDepth = 258 };

    // Drops the whitespace between tokens of valid JSON; strings (where a line break can only be escaped) are kept.
    internal static byte[] Minify(ReadOnlySpan<byte> json)
    {
        var output = new byte[json.Length];
        var length = 0;
        var inString = false;
        for (var i = 0; i < json.Length; i++)
        {
            var b = json[i];
            if (inString)
            {
                output[length++] = b;
                if (b == (byte)'\\')
                {
                    output[length++] = json[++i];
                }
                else if (b == (byte)'"')
                {
                    inString = false;
                }
            }
            else if (b is not ((byte)' ' or (byte)'\t' or (byte)'\n' or (byte)'\r'))
            {
                output[length++] = b;
                inString = b == (byte)'"';
            }
        }

        return output.AsSpan(0, length).ToArray();
    }

    // Only for JSON the caller has validated (the request reader, the stored-event reader).
    internal static RawJson FromValidated(ReadOnlyMemory<byte> utf8) => new(utf8);
}
