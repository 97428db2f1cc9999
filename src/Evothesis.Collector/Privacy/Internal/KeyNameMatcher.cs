using System.Buffers;
using System.Collections.Frozen;
using System.Text;

namespace Evothesis.Collector.Privacy.Internal;

/// <summary>
/// Matches JSON property and query parameter names against a list of names, as words: a name is split into
/// lower-case words at separators, case changes and letter/digit changes (<c>billingCardNumber</c> becomes
/// <c>billing card number</c>), and matches an entry whose words appear in it in a row. So <c>card_number</c>
/// matches <c>cardNumber</c> and <c>CARD-NUMBER</c>, <c>pin</c> matches <c>pin_code</c> but not <c>shipping</c>,
/// and a plural matches its singular (<c>tokens</c>, <c>passwords</c>).
/// </summary>
internal sealed class KeyNameMatcher
{
    private const int MaxWords = 32;
    private const int StackChars = 256;

    private readonly FrozenDictionary<string, string[][]> _byFirstWord;
    private readonly FrozenDictionary<string, string[][]>.AlternateLookup<ReadOnlySpan<char>> _lookup;

    public KeyNameMatcher(IEnumerable<string> entries)
    {
        var byFirst = new Dictionary<string, List<string[]>>(StringComparer.Ordinal);
        foreach (var entry in entries)
        {
            var words = Split(entry);
            if (words.Length == 0)
            {
                continue;
            }

            if (!byFirst.TryGetValue(words[0], out var list))
            {
                byFirst[words[0]] = list = [];
            }

            list.Add(words);
        }

        _byFirstWord = byFirst.ToFrozenDictionary(p => p.Key, p => p.Value.ToArray(), StringComparer.Ordinal);
        _lookup = _byFirstWord.GetAlternateLookup<ReadOnlySpan<char>>();
    }

    /// <summary>Tells whether a UTF-8 name contains one of the entries as words.</summary>
    public bool Matches(ReadOnlySpan<byte> utf8Name)
    {
        if (utf8Name.IsEmpty || _byFirstWord.Count == 0)
        {
            return false;
        }

        char[]? rented = null;
        var chars = utf8Name.Length <= StackChars
            ? stackalloc char[StackChars]
            : (rented = ArrayPool<char>.Shared.Rent(utf8Name.Length));
        try
        {
            var length = Encoding.UTF8.GetChars(utf8Name, chars);
            return Matches(chars[..length]);
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<char>.Shared.Return(rented);
            }
        }
    }

    /// <summary>Tells whether a name contains one of the entries as words.</summary>
    public bool Matches(ReadOnlySpan<char> name)
    {
        Span<Range> words = stackalloc Range[MaxWords];
        char[]? rented = null;
        var lower = name.Length <= StackChars ? stackalloc char[StackChars] : (rented = ArrayPool<char>.Shared.Rent(name.Length));
        try
        {
            var count = SplitWords(name, lower, words);
            for (var w = 0; w < count; w++)
            {
                if (!_lookup.TryGetValue(lower[words[w]], out var candidates))
                {
                    continue;
                }

                foreach (var candidate in candidates)
                {
                    if (w + candidate.Length > count)
                    {
                        continue;
                    }

                    var all = true;
                    for (var k = 1; k < candidate.Length && all; k++)
                    {
                        all = lower[words[w + k]].SequenceEqual(candidate[k]);
                    }

                    if (all)
                    {
                        return true;
                    }
                }
            }

            return false;
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<char>.Shared.Return(rented);
            }
        }
    }

    /// <summary>Joins a name's words: <c>formId</c>, <c>form-id</c> and <c>FORM_ID</c> all become <c>formid</c>.</summary>
    public static string Normalize(string name)
    {
        var buffer = new char[name.Length];
        return new string(buffer, 0, Normalize(name, buffer));
    }

    /// <summary>Writes a name's words, joined, into <paramref name="destination"/>; returns the length.</summary>
    public static int Normalize(ReadOnlySpan<char> name, Span<char> destination)
    {
        var length = 0;
        foreach (var c in name)
        {
            if (char.IsLetterOrDigit(c) && length < destination.Length)
            {
                destination[length++] = char.ToLowerInvariant(c);
            }
        }

        return length;
    }

    private static string[] Split(string name)
    {
        Span<Range> words = stackalloc Range[MaxWords];
        var lower = new char[name.Length];
        var count = SplitWords(name, lower, words);
        var result = new string[count];
        for (var i = 0; i < count; i++)
        {
            result[i] = new string(lower.AsSpan()[words[i]]);
        }

        return result;
    }

    // Lower-cases 'name' into 'lower' and returns the ranges of its words.
    private static int SplitWords(ReadOnlySpan<char> name, Span<char> lower, Span<Range> words)
    {
        var count = 0;
        var start = -1;
        for (var i = 0; i < name.Length; i++)
        {
            var c = name[i];
            lower[i] = char.ToLowerInvariant(c);
            if (!char.IsLetterOrDigit(c))
            {
                if (start >= 0)
                {
                    Add(ref count, words, lower, start, i);
                    start = -1;
                }

                continue;
            }

            if (start >= 0 && IsBoundary(name, i))
            {
                Add(ref count, words, lower, start, i);
                start = i;
            }
            else if (start < 0)
            {
                start = i;
            }
        }

        if (start >= 0)
        {
            Add(ref count, words, lower, start, name.Length);
        }

        return count;

        static void Add(ref int count, Span<Range> words, ReadOnlySpan<char> lower, int start, int end)
        {
            // Plurals match their singular ("tokens", "passwords", "ips"), but "address" and "access" stay whole.
            if (end - start >= 3 && lower[end - 1] == 's' && lower[end - 2] != 's')
            {
                end--;
            }

            if (count < words.Length)
            {
                words[count++] = start..end;
            }
        }
    }

    // A new word starts at "cardNumber" (lower to upper), "SSNNumber" (the last of several capitals),
    // and between letters and digits ("address1", "cvv2").
    private static bool IsBoundary(ReadOnlySpan<char> name, int i)
    {
        var previous = name[i - 1];
        var c = name[i];
        if (char.IsDigit(previous) != char.IsDigit(c))
        {
            return true;
        }

        if (char.IsUpper(c) && char.IsLower(previous))
        {
            return true;
        }

        return char.IsUpper(c) && char.IsUpper(previous) && i + 1 < name.Length && char.IsLower(name[i + 1]);
    }
}
