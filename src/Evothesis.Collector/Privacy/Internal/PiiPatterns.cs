using System.Buffers;

namespace Evothesis.Collector.Privacy.Internal;

/// <summary>A span of text that holds personal data.</summary>
internal readonly record struct PiiMatch(int Start, int End, PiiKind Kind);

/// <summary>
/// Finds email addresses, phone numbers, payment card numbers (Luhn), US social security numbers and IBANs
/// (mod-97) in UTF-8 text, without regular expressions or allocations.
/// </summary>
/// <remarks>
/// Each rule is tuned to leave identifiers alone: a number glued to a word (<c>ORD-12345</c>, the groups of a
/// UUID, <c>v1.2.3</c>) is never a match, bare digit runs are never phone numbers (they are ids and timestamps),
/// dates and dotted versions or addresses are not phone numbers, card numbers must pass the Luhn check and start
/// like a card (2-6), IBANs must have their country's length and pass mod-97.
/// </remarks>
internal static class PiiPatterns
{
    /// <summary>The fewest digits any numeric rule needs (a phone number with a country code).</summary>
    private const int MinDigits = 8;

    private const int MaxGroups = 24;

    private static readonly SearchValues<byte> Triggers = SearchValues.Create("@%"u8);

    // File extensions are not top-level domains: "logo@2x.png" is an image, not an address.
    private static readonly string[] FileExtensions =
        ["png", "jpg", "jpeg", "gif", "svg", "webp", "avif", "ico", "bmp", "tif", "tiff", "css", "js", "mjs", "map", "json", "html", "htm", "php", "txt", "pdf", "xml"];

    /// <summary>Tells cheaply whether a text could hold a match at all.</summary>
    public static bool MayContain(ReadOnlySpan<byte> text)
    {
        if (text.IndexOfAny(Triggers) >= 0)
        {
            return true;
        }

        var digits = 0;
        foreach (var b in text)
        {
            if (IsDigit(b) && ++digits >= MinDigits)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Adds the matches in <paramref name="text"/> to <paramref name="matches"/>, in order, without overlaps.</summary>
    public static void FindAll(ReadOnlySpan<byte> text, List<PiiMatch> matches)
    {
        var first = matches.Count;
        var i = 0;
        while (i < text.Length)
        {
            var b = text[i];
            if (b == (byte)'@' || (b == (byte)'%' && IsEncodedAt(text, i)))
            {
                var atLength = b == (byte)'@' ? 1 : 3;
                if (TryEmail(text, i, atLength, out var email))
                {
                    matches.Add(email);
                    i = email.End;
                    continue;
                }

                i += atLength;
                continue;
            }

            if (IsAsciiLetter(b) && IsWordStart(text, i))
            {
                if (TryIban(text, i, out var iban))
                {
                    matches.Add(iban);
                    i = iban.End;
                    continue;
                }

                i++;
                continue;
            }

            if ((IsDigit(b) || b == (byte)'+' || b == (byte)'(') && IsNumberStart(text, i))
            {
                i = ScanCluster(text, i, matches);
                continue;
            }

            i++;
        }

        Normalize(matches, first);
    }

    /// <summary>Tells whether the digits of a JSON number are a payment card number.</summary>
    public static bool IsCardNumber(ReadOnlySpan<byte> digits)
    {
        if (digits.Length is < 13 or > 19 || digits.IndexOfAnyExceptInRange((byte)'0', (byte)'9') >= 0)
        {
            return false;
        }

        return digits[0] is >= (byte)'2' and <= (byte)'6' && Luhn(digits);
    }

    // An email found from its '@' reaches back over the local part, which may already hold a number match.
    private static void Normalize(List<PiiMatch> matches, int first)
    {
        if (matches.Count - first < 2)
        {
            return;
        }

        var span = System.Runtime.InteropServices.CollectionsMarshal.AsSpan(matches)[first..];
        span.Sort(static (a, b) => a.Start != b.Start ? a.Start.CompareTo(b.Start) : b.End.CompareTo(a.End));
        var kept = first;
        var lastEnd = -1;
        for (var k = first; k < matches.Count; k++)
        {
            var m = matches[k];
            if (m.Start >= lastEnd)
            {
                matches[kept++] = m;
                lastEnd = m.End;
            }
            else if (m.End > lastEnd)
            {
                // Overlapping and longer: widen the kept match so nothing of either leaks.
                var previous = matches[kept - 1];
                matches[kept - 1] = previous with { End = m.End };
                lastEnd = m.End;
            }
        }

        matches.RemoveRange(kept, matches.Count - kept);
    }

    private static bool IsEncodedAt(ReadOnlySpan<byte> text, int i) =>
        i + 2 < text.Length && text[i + 1] == (byte)'4' && text[i + 2] == (byte)'0';

    private static bool TryEmail(ReadOnlySpan<byte> text, int at, int atLength, out PiiMatch match)
    {
        // Bounded like real addresses (64-byte local part, 253-byte domain), so a long run of address
        // characters cannot make the scan quadratic.
        match = default;
        var start = at;
        while (start > 0 && at - start < 64 && IsLocalChar(text[start - 1]))
        {
            start--;
        }

        while (start < at && text[start] == (byte)'.')
        {
            start++;
        }

        if (start == at)
        {
            return false;
        }

        var domainStart = at + atLength;
        var end = domainStart;
        while (end < text.Length && end - domainStart < 253 && IsDomainChar(text[end]))
        {
            end++;
        }

        while (end > domainStart && text[end - 1] is (byte)'.' or (byte)'-')
        {
            end--;
        }

        var domain = text[domainStart..end];
        var lastDot = domain.LastIndexOf((byte)'.');
        if (lastDot <= 0 || domain[0] is (byte)'.' or (byte)'-' || domain.IndexOf(".."u8) >= 0)
        {
            return false;
        }

        var tld = domain[(lastDot + 1)..];
        if (tld.Length < 2 || !IsTopLevelDomain(tld))
        {
            return false;
        }

        match = new PiiMatch(start, end, PiiKind.Email);
        return true;
    }

    private static bool IsTopLevelDomain(ReadOnlySpan<byte> tld)
    {
        if (tld.StartsWith("xn--"u8))
        {
            return true;
        }

        foreach (var b in tld)
        {
            if (!IsAsciiLetter(b) && b < 0x80)
            {
                return false;
            }
        }

        foreach (var extension in FileExtensions)
        {
            if (System.Text.Ascii.EqualsIgnoreCase(tld, extension))
            {
                return false;
            }
        }

        return true;
    }

    private static bool TryIban(ReadOnlySpan<byte> text, int start, out PiiMatch match)
    {
        match = default;
        if (start + 4 > text.Length || !IsAsciiLetter(text[start + 1]) || !IsDigit(text[start + 2]) || !IsDigit(text[start + 3]))
        {
            return false;
        }

        var length = IbanRegistry.Length(text[start], text[start + 1]);
        if (length == 0)
        {
            return false;
        }

        // Collect exactly 'length' letters and digits; single spaces may group them (print format).
        Span<byte> iban = stackalloc byte[IbanRegistry.MaxLength];
        var count = 0;
        var i = start;
        while (i < text.Length && count < length)
        {
            var b = text[i];
            if (IsAsciiLetterOrDigit(b))
            {
                iban[count++] = IsAsciiLetter(b) ? (byte)(b & 0xDF) : b;
                i++;
            }
            else if (b == (byte)' ' && count > 0 && i + 1 < text.Length && IsAsciiLetterOrDigit(text[i + 1]))
            {
                i++;
            }
            else
            {
                break;
            }
        }

        if (count != length || (i < text.Length && IsWordByte(text[i])))
        {
            return false;
        }

        if (!IbanRegistry.HasValidChecksum(iban[..count]))
        {
            return false;
        }

        match = new PiiMatch(start, i, PiiKind.Iban);
        return true;
    }

    /// <summary>
    /// Reads a cluster of digit groups joined by single separators (space, '-', '.', '/', parentheses), and
    /// looks in it for a card number, an SSN or a phone number. Returns the position after the cluster.
    /// </summary>
    private static int ScanCluster(ReadOnlySpan<byte> text, int start, List<PiiMatch> matches)
    {
        Span<Group> groups = stackalloc Group[MaxGroups];
        var count = 0;
        var pos = start;
        var plus = false;
        var overflow = false;
        if (text[pos] == (byte)'+')
        {
            plus = true;
            pos++;
        }

        if (pos < text.Length && text[pos] == (byte)'(')
        {
            pos++;
        }

        var separatorStart = pos;
        while (true)
        {
            var groupStart = pos;
            while (pos < text.Length && IsDigit(text[pos]))
            {
                pos++;
            }

            if (pos == groupStart)
            {
                break;
            }

            if (count == MaxGroups)
            {
                // Far too long for anything we look for: a table of numbers, not a phone number. Its tail is
                // read to its end too, so it cannot be taken for a number of its own.
                overflow = true;
            }
            else
            {
                var separator = count == 0 ? default : Separator.From(text[separatorStart..groupStart]);
                groups[count++] = new Group(groupStart, pos, separator);
            }

            var next = pos;
            if (next < text.Length && IsSeparator(text[next]))
            {
                next++;

                // Two separator characters only around a parenthesis: "(555) 123", "1 (555)".
                if (next < text.Length && IsSeparator(text[next]) && (text[next - 1] == (byte)')' || text[next] == (byte)'('))
                {
                    next++;
                }
            }

            if (next == pos || next >= text.Length || !IsDigit(text[next]))
            {
                break;
            }

            separatorStart = pos;
            pos = next;
        }

        if (count == 0)
        {
            return start + 1;
        }

        if (overflow)
        {
            return pos;
        }

        var end = groups[count - 1].End;

        // Digits glued to a word are part of an identifier ("123-45-6789abc", "2026-11-26T10:00").
        if (end < text.Length && IsWordByte(text[end]))
        {
            return SkipWord(text, end);
        }

        Classify(text, groups[..count], plus, start, matches);
        return end;
    }

    private static int SkipWord(ReadOnlySpan<byte> text, int pos)
    {
        while (pos < text.Length && IsWordByte(text[pos]))
        {
            pos++;
        }

        return pos;
    }

    private static void Classify(ReadOnlySpan<byte> text, ReadOnlySpan<Group> groups, bool plus, int clusterStart, List<PiiMatch> matches)
    {
        var g = 0;
        while (g < groups.Length)
        {
            // Only the start of the cluster or a space begins a number: never the middle of "2026-11-26".
            if (g > 0 && groups[g].Before.Char != (byte)' ')
            {
                g++;
                continue;
            }

            if (TryCard(text, groups, g, out var last))
            {
                matches.Add(new PiiMatch(groups[g].Start, groups[last].End, PiiKind.Card));
                g = last + 1;
            }
            else if (TrySsn(text, groups, g))
            {
                matches.Add(new PiiMatch(groups[g].Start, groups[g + 2].End, PiiKind.Ssn));
                g += 3;
            }
            else if (TryPhone(text, groups, g, plus && g == 0, out last))
            {
                // A phone number owns its leading '+' or '(' ("+1 555...", "(555) 123-4567").
                matches.Add(new PiiMatch(g == 0 ? clusterStart : groups[g].Start, groups[last].End, PiiKind.Phone));
                g = last + 1;
            }
            else
            {
                g++;
            }
        }
    }

    private static bool TryCard(ReadOnlySpan<byte> text, ReadOnlySpan<Group> groups, int g, out int last)
    {
        last = -1;
        if (text[groups[g].Start] is < (byte)'2' or > (byte)'6')
        {
            return false;
        }

        Span<byte> digits = stackalloc byte[19];
        var count = 0;
        for (var k = g; k < groups.Length; k++)
        {
            var group = groups[k];
            if (group.Length < 3 || (k > g && !(group.Before.Length == 1 && group.Before.Char is (byte)' ' or (byte)'-')))
            {
                break;
            }

            if (count + group.Length > digits.Length)
            {
                break;
            }

            text[group.Start..group.End].CopyTo(digits[count..]);
            count += group.Length;
            if (count >= 13 && Luhn(digits[..count]))
            {
                last = k;
            }
        }

        return last >= 0;
    }

    private static bool TrySsn(ReadOnlySpan<byte> text, ReadOnlySpan<Group> groups, int g)
    {
        if (g + 2 >= groups.Length || groups[g].Length != 3 || groups[g + 1].Length != 2 || groups[g + 2].Length != 4)
        {
            return false;
        }

        var separator = groups[g + 1].Before;
        if (separator.Length != 1 || separator.Char is not ((byte)'-' or (byte)' ') || groups[g + 2].Before != separator)
        {
            return false;
        }

        // A longer run with the same separator is some other number ("123-45-6789-01"). Groups before it were
        // already tried as the start of a longer number (a phone number) and were none: a date, small numbers.
        if (g + 3 < groups.Length && groups[g + 3].Before == separator)
        {
            return false;
        }

        var area = text.Slice(groups[g].Start, 3);
        var group = text.Slice(groups[g + 1].Start, 2);
        var serial = text.Slice(groups[g + 2].Start, 4);
        return !area.SequenceEqual("000"u8) && !area.SequenceEqual("666"u8) && area[0] != (byte)'9'
            && !group.SequenceEqual("00"u8) && !serial.SequenceEqual("0000"u8);
    }

    private static bool TryPhone(ReadOnlySpan<byte> text, ReadOnlySpan<Group> groups, int g, bool plus, out int last)
    {
        last = -1;
        if (!plus && IsDate(groups, g))
        {
            return false;
        }

        var trunkZero = text[groups[g].Start] == (byte)'0';
        var digits = 0;
        var dotsOnly = true;
        var pairsOnly = true;
        for (var k = g; k < groups.Length && k - g < 6; k++)
        {
            var group = groups[k];
            pairsOnly &= group.Length == 2;
            if (k > g)
            {
                dotsOnly &= group.Before is { Length: 1, Char: (byte)'.' };

                // A one-digit group after the first is a list ("1 2 3 4"), not a phone number.
                if (!plus && group.Length < 2)
                {
                    break;
                }
            }

            digits += group.Length;
            if (digits > 15)
            {
                break;
            }

            var groupCount = k - g + 1;
            bool valid;
            if (plus)
            {
                valid = digits >= 8;
            }
            else
            {
                // Bare digit runs are ids and timestamps; dotted numbers are versions and addresses
                // unless they have the North American 3.3.4 shape or the French 0X.XX.XX.XX.XX one. A first
                // group of five digits is an area code only after the trunk prefix 0 ("01223 123456").
                valid = groupCount >= 2 && digits >= 10
                    && (groups[g].Length <= 4 || (groups[g].Length == 5 && trunkZero))
                    && (!dotsOnly
                        || (groupCount == 3 && groups[g].Length == 3 && groups[g + 1].Length == 3 && groups[g + 2].Length == 4)
                        || (groupCount == 5 && pairsOnly && trunkZero));
            }

            if (valid)
            {
                last = k;
            }
        }

        return last >= 0;
    }

    private static bool IsDate(ReadOnlySpan<Group> groups, int g)
    {
        if (g + 2 >= groups.Length)
        {
            return false;
        }

        var separator = groups[g + 1].Before;
        if (separator.Length != 1 || separator.Char is not ((byte)'-' or (byte)'/' or (byte)'.') || groups[g + 2].Before != separator)
        {
            return false;
        }

        var (a, b, c) = (groups[g].Length, groups[g + 1].Length, groups[g + 2].Length);
        return (a == 4 && b <= 2 && c <= 2) || (a <= 2 && b <= 2 && c == 4);
    }

    private static bool Luhn(ReadOnlySpan<byte> digits)
    {
        var sum = 0;
        var doubleIt = false;
        for (var i = digits.Length - 1; i >= 0; i--)
        {
            var d = digits[i] - '0';
            if (doubleIt)
            {
                d *= 2;
                if (d > 9)
                {
                    d -= 9;
                }
            }

            sum += d;
            doubleIt = !doubleIt;
        }

        // All zeros pass the check but are no card.
        return sum % 10 == 0 && sum > 0;
    }

    // A number may start here when it is not glued to a preceding word ("ORD-12345", "v1.2", "a716-4466").
    private static bool IsNumberStart(ReadOnlySpan<byte> text, int i)
    {
        if (text[i] is (byte)'+' or (byte)'(' && (i + 1 >= text.Length || !(IsDigit(text[i + 1]) || text[i + 1] == (byte)'(')))
        {
            return false;
        }

        if (i == 0)
        {
            return true;
        }

        var previous = text[i - 1];
        if (IsWordByte(previous))
        {
            return false;
        }

        return !(previous is (byte)'-' or (byte)'.' && i >= 2 && IsWordByte(text[i - 2]));
    }

    private static bool IsWordStart(ReadOnlySpan<byte> text, int i) => i == 0 || !IsWordByte(text[i - 1]);

    private static bool IsSeparator(byte b) => b is (byte)' ' or (byte)'-' or (byte)'.' or (byte)'/' or (byte)'(' or (byte)')';

    private static bool IsDigit(byte b) => b is >= (byte)'0' and <= (byte)'9';

    private static bool IsAsciiLetter(byte b) => (uint)((b | 0x20) - 'a') <= 'z' - 'a';

    private static bool IsAsciiLetterOrDigit(byte b) => IsDigit(b) || IsAsciiLetter(b);

    // Letters, digits, '_' and any non-ASCII byte (letters of other scripts).
    private static bool IsWordByte(byte b) => IsAsciiLetterOrDigit(b) || b == (byte)'_' || b >= 0x80;

    private static bool IsLocalChar(byte b) =>
        IsAsciiLetterOrDigit(b) || b is (byte)'.' or (byte)'_' or (byte)'%' or (byte)'+' or (byte)'-' or (byte)'\'' || b >= 0x80;

    private static bool IsDomainChar(byte b) => IsAsciiLetterOrDigit(b) || b is (byte)'.' or (byte)'-' || b >= 0x80;

    /// <summary>The characters between two digit groups.</summary>
    private readonly record struct Separator(byte Char, byte Second, int Length)
    {
        public static Separator From(ReadOnlySpan<byte> text) => text.Length switch
        {
            0 => default,
            1 => new Separator(text[0], 0, 1),
            _ => new Separator(text[0], text[1], text.Length),
        };
    }

    private readonly record struct Group(int Start, int End, Separator Before)
    {
        public int Length => End - Start;
    }
}
