using System.Buffers;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace Evothesis.Collector.Privacy.Internal;

/// <summary>
/// Buffers one redaction reuses, cached per thread: redaction is synchronous, so a thread runs one at a time,
/// and payloads without personal data cost no allocation at all.
/// </summary>
internal sealed class RedactionScratch
{
    // Buffers that grew past this on a large payload are dropped rather than kept per thread.
    private const int MaxRetainedBytes = 64 * 1024;

    [ThreadStatic]
    private static RedactionScratch? t_cached;

    private RedactionScratch()
    {
        Writer = new Utf8JsonWriter(Replacements, new JsonWriterOptions
        {
            Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
            SkipValidation = true,
        });
    }

    /// <summary>Pattern matches; users append and remove their own range.</summary>
    public List<PiiMatch> Matches { get; } = [];

    /// <summary>Percent-decoded URL parts.</summary>
    public ArrayBufferWriter<byte> Decoded { get; } = new(256);

    /// <summary>A string's redacted text, before JSON encoding.</summary>
    public ArrayBufferWriter<byte> Text { get; } = new(256);

    /// <summary>An unescaped JSON string.</summary>
    public ArrayBufferWriter<byte> Unescaped { get; } = new(256);

    /// <summary>The JSON-encoded replacements the splices refer to.</summary>
    public ArrayBufferWriter<byte> Replacements { get; } = new(1024);

    /// <summary>Writes JSON string literals into <see cref="Replacements"/>.</summary>
    public Utf8JsonWriter Writer { get; }

    public List<RedactionSplice> Splices { get; } = [];

    public List<RedactionFrame> Frames { get; } = [];

    public static RedactionScratch Rent()
    {
        var scratch = t_cached ?? new RedactionScratch();
        t_cached = null;
        return scratch;
    }

    public static void Return(RedactionScratch scratch)
    {
        if (scratch.Replacements.Capacity > MaxRetainedBytes || scratch.Text.Capacity > MaxRetainedBytes
            || scratch.Unescaped.Capacity > MaxRetainedBytes || scratch.Decoded.Capacity > MaxRetainedBytes)
        {
            scratch.Writer.Dispose();
            return;
        }

        scratch.Matches.Clear();
        scratch.Splices.Clear();
        scratch.Frames.Clear();
        scratch.Replacements.ResetWrittenCount();
        scratch.Text.ResetWrittenCount();
        scratch.Unescaped.ResetWrittenCount();
        scratch.Decoded.ResetWrittenCount();
        scratch.Writer.Reset(scratch.Replacements);
        t_cached = scratch;
    }
}

/// <summary>A replacement of source bytes [Start, End) by replacement bytes.</summary>
internal struct RedactionSplice
{
    public int Start;
    public int End;
    public int ReplacementStart;
    public int ReplacementLength;

    /// <summary>The kinds redacted, as a bit mask; 0 for a splice withdrawn.</summary>
    public int Mask;

    /// <summary>The location for audit records, when locations are collected.</summary>
    public string? Path;

    /// <summary>A form value whose key may turn out to describe a field (<c>name</c> beside a <c>value</c>).</summary>
    public bool Conditional;

    /// <summary>What a withdrawn conditional splice falls back to: the pattern-redacted value, if any.</summary>
    public int FallbackStart;
    public int FallbackLength;
    public int FallbackMask;
}

/// <summary>The state of one open JSON object or array.</summary>
internal struct RedactionFrame
{
    public bool IsArray;

    /// <summary>Everything inside is under a secret key.</summary>
    public bool Secret;

    /// <summary>Inside a form event's payload, everything inside is metadata (kept).</summary>
    public bool Metadata;

    /// <summary>The form rule applies inside: a form event's payload, or a form container such as <c>formData</c>.</summary>
    public bool Form;

    /// <summary>The object has a property holding a field's value (<c>value</c>, <c>checked</c>, ...).</summary>
    public bool HasValueHolder;

    /// <summary>The index in the splice list where this object's splices start.</summary>
    public int FirstSplice;

    // The property most recently named in this object: where its name is in the source, and its rules.
    public int NameStart;
    public int NameLength;
    public int NameMask;
    public bool NameSecret;
    public bool NameMetadata;
    public bool NameDescriptor;
}
