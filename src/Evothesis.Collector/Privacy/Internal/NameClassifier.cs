using System.Collections.Frozen;
using System.Text;

namespace Evothesis.Collector.Privacy.Internal;

/// <summary>What the redaction rules make of a property or parameter name.</summary>
[Flags]
internal enum NameFlags : byte
{
    None = 0,

    /// <summary>Names a secret: its value is replaced.</summary>
    Secret = 1,

    /// <summary>Form metadata: its value is kept in form events.</summary>
    FormMetadata = 2,

    /// <summary>Page context: kept at the top level of form events.</summary>
    PageContext = 4,

    /// <summary>Describes a form field (<c>name</c>, <c>type</c>): kept beside the field's value.</summary>
    Descriptor = 8,

    /// <summary>Holds a form field's value (<c>value</c>, <c>checked</c>).</summary>
    ValueHolder = 16,

    /// <summary>Holds a form's values in any event (<c>formData</c>, <c>form_fields</c>): the form rule applies inside.</summary>
    FormContainer = 32,
}

/// <summary>
/// Classifies names for the redaction rules, remembering recent answers: payloads repeat the same few names
/// (<c>url</c>, <c>title</c>, <c>order_id</c>), so the word matching runs once per name, not once per property.
/// </summary>
/// <remarks>
/// The memory is a fixed table indexed by a per-process randomized hash, each slot holding an immutable entry
/// swapped in whole, so readers need no lock and a flood of distinct names costs misses, never memory.
/// </remarks>
internal sealed class NameClassifier
{
    private const int MaxCachedLength = 64;
    private const int Slots = 1024;

    // Keys that name or describe a form field when their object also holds the field's value:
    // {"name": "email", "type": "email", "value": "..."}.
    private static readonly string[] DescriptorKeys = ["name", "id", "type", "label", "placeholder", "tag", "field", "index", "position", "required"];

    private static readonly string[] ValueHolderKeys = ["value", "values", "field_value", "checked", "selected", "input", "text"];

    // Whatever the event type, what these hold was typed into a form.
    private static readonly string[] FormContainerKeys = ["form_data", "form_values", "form_fields", "field_values", "form_inputs", "form_answers"];

    // Top-level properties of a form event that describe the page, not the form.
    private static readonly string[] PageContextKeys =
        ["url", "path", "title", "referrer", "hash", "query_params", "page", "visitor_id", "attribution", "browser", "batch_metadata", "language", "timezone", "user_agent"];

    private readonly KeyNameMatcher _secrets;
    private readonly FrozenSet<string>.AlternateLookup<ReadOnlySpan<char>> _metadata;
    private readonly FrozenSet<string>.AlternateLookup<ReadOnlySpan<char>> _pageContext;
    private readonly FrozenSet<string>.AlternateLookup<ReadOnlySpan<char>> _descriptors;
    private readonly FrozenSet<string>.AlternateLookup<ReadOnlySpan<char>> _valueHolders;
    private readonly FrozenSet<string>.AlternateLookup<ReadOnlySpan<char>> _formContainers;
    private readonly Entry?[] _cache = new Entry?[Slots];

    public NameClassifier(IEnumerable<string> secretKeys, IEnumerable<string> formMetadataKeys)
    {
        _secrets = new KeyNameMatcher(secretKeys);
        _metadata = Set(formMetadataKeys);
        _pageContext = Set(PageContextKeys);
        _descriptors = Set(DescriptorKeys);
        _valueHolders = Set(ValueHolderKeys);
        _formContainers = Set(FormContainerKeys);
    }

    public bool IsSecret(ReadOnlySpan<byte> utf8Name) => (Classify(utf8Name) & NameFlags.Secret) != 0;

    public NameFlags Classify(ReadOnlySpan<byte> utf8Name)
    {
        if (utf8Name.IsEmpty)
        {
            return NameFlags.None;
        }

        if (utf8Name.Length > MaxCachedLength)
        {
            return Compute(utf8Name);
        }

        var hash = new HashCode();
        hash.AddBytes(utf8Name);
        ref var slot = ref _cache[hash.ToHashCode() & (Slots - 1)];
        var entry = Volatile.Read(ref slot);
        if (entry is not null && entry.Name.AsSpan().SequenceEqual(utf8Name))
        {
            return entry.Flags;
        }

        var flags = Compute(utf8Name);
        Volatile.Write(ref slot, new Entry(utf8Name.ToArray(), flags));
        return flags;
    }

    private static FrozenSet<string>.AlternateLookup<ReadOnlySpan<char>> Set(IEnumerable<string> names) =>
        names.Select(KeyNameMatcher.Normalize).Where(n => n.Length > 0).ToFrozenSet(StringComparer.Ordinal).GetAlternateLookup<ReadOnlySpan<char>>();

    private NameFlags Compute(ReadOnlySpan<byte> utf8Name)
    {
        var flags = _secrets.Matches(utf8Name) ? NameFlags.Secret : NameFlags.None;

        // The form-key sets hold whole names, joined: "formId", "form_id" and "FORM-ID" are all "formid".
        Span<char> chars = stackalloc char[MaxCachedLength];
        Span<char> normalized = stackalloc char[MaxCachedLength];
        if (utf8Name.Length > MaxCachedLength)
        {
            return flags;
        }

        var length = Encoding.UTF8.GetChars(utf8Name, chars);
        var key = normalized[..KeyNameMatcher.Normalize(chars[..length], normalized)];
        if (_metadata.Contains(key))
        {
            flags |= NameFlags.FormMetadata;
        }

        if (_pageContext.Contains(key))
        {
            flags |= NameFlags.PageContext;
        }

        if (_descriptors.Contains(key))
        {
            flags |= NameFlags.Descriptor;
        }

        if (_valueHolders.Contains(key))
        {
            flags |= NameFlags.ValueHolder;
        }

        if (_formContainers.Contains(key))
        {
            flags |= NameFlags.FormContainer;
        }

        return flags;
    }

    private sealed class Entry(byte[] name, NameFlags flags)
    {
        public byte[] Name { get; } = name;

        public NameFlags Flags { get; } = flags;
    }
}
