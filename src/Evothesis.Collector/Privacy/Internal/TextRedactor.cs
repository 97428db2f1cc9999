using System.Buffers;

namespace Evothesis.Collector.Privacy.Internal;

/// <summary>
/// Redacts one string: personal data found by <see cref="PiiPatterns"/> is replaced by its marker in place;
/// URLs keep their scheme, host and path, lose any user:password, and have query and fragment parameters
/// redacted whose value holds personal data or whose name is a secret.
/// </summary>
internal sealed class TextRedactor(NameClassifier names)
{
    private static readonly SearchValues<byte> UrlEnd = SearchValues.Create(" \t\r\n\"'<>`"u8);
    private static readonly SearchValues<byte> AuthorityEnd = SearchValues.Create("/?#"u8);
    private static readonly SearchValues<byte> PathEnd = SearchValues.Create("?#"u8);

    /// <summary>
    /// Tells cheaply whether a string could need redaction at all: it may hold a pattern ('@', '%', or enough
    /// digits; credentials in a URL need an '@' too), or it is or holds a URL with a query or fragment, whose
    /// parameter names may be secrets.
    /// </summary>
    public static bool MayNeedRedaction(ReadOnlySpan<byte> text) =>
        text.Length > 0
        && (PiiPatterns.MayContain(text)
            || (text.IndexOfAny((byte)'?', (byte)'#') >= 0 && (text[0] is (byte)'/' or (byte)'?' or (byte)'#' || text.IndexOf("://"u8) >= 0)));

    /// <summary>
    /// Writes the redacted form of <paramref name="text"/> to <paramref name="output"/> and returns the kinds of
    /// what was redacted as a bit mask (bit <c>1 &lt;&lt; (int)kind</c>); 0 when nothing was, and then the output is meaningless.
    /// </summary>
    public int Redact(ReadOnlySpan<byte> text, ArrayBufferWriter<byte> output, RedactionScratch scratch)
    {
        var mask = 0;
        if (text.Length == 0)
        {
            return 0;
        }

        // A whole string is a URL only without whitespace; "https://x.com is great" is text with a URL in it.
        if ((GetSchemeLength(text, 0) > 0 || text[0] == (byte)'/') && text.IndexOfAny(UrlEnd) < 0)
        {
            RedactUrl(text, output, scratch, ref mask);
        }
        else if (text[0] == (byte)'?')
        {
            output.Write("?"u8);
            RedactParameters(text[1..], output, scratch, ref mask);
        }
        else if (text[0] == (byte)'#')
        {
            output.Write("#"u8);
            RedactFragment(text[1..], output, scratch, ref mask);
        }
        else
        {
            RedactFreeText(text, output, scratch, ref mask);
        }

        return mask;
    }

    /// <summary>Finds the kind of the first personal data in a text, if any.</summary>
    public static bool TryFindFirst(ReadOnlySpan<byte> text, RedactionScratch scratch, out PiiKind kind)
    {
        kind = default;
        if (!PiiPatterns.MayContain(text))
        {
            return false;
        }

        var matches = scratch.Matches;
        var first = matches.Count;
        PiiPatterns.FindAll(text, matches);
        if (matches.Count == first)
        {
            return false;
        }

        kind = matches[first].Kind;
        matches.RemoveRange(first, matches.Count - first);
        return true;
    }

    // "https://", "android-app://": letters, then letters, digits, '+', '-', '.', then "://".
    private static int GetSchemeLength(ReadOnlySpan<byte> text, int start)
    {
        if (start >= text.Length || !IsAsciiLetter(text[start]))
        {
            return 0;
        }

        var i = start + 1;
        while (i < text.Length && (IsAsciiLetter(text[i]) || text[i] is (byte)'+' or (byte)'-' or (byte)'.' or >= (byte)'0' and <= (byte)'9'))
        {
            i++;
        }

        return text[i..].StartsWith("://"u8) ? i - start + 3 : 0;
    }

    private static bool IsAsciiLetter(byte b) => (uint)((b | 0x20) - 'a') <= 'z' - 'a';

    private static void WritePatterns(ReadOnlySpan<byte> text, ArrayBufferWriter<byte> output, RedactionScratch scratch, ref int mask)
    {
        if (!PiiPatterns.MayContain(text))
        {
            output.Write(text);
            return;
        }

        var matches = scratch.Matches;
        var first = matches.Count;
        PiiPatterns.FindAll(text, matches);
        var position = 0;
        for (var i = first; i < matches.Count; i++)
        {
            var m = matches[i];
            output.Write(text[position..m.Start]);
            output.Write(PiiKinds.Marker(m.Kind));
            mask |= 1 << (int)m.Kind;
            position = m.End;
        }

        output.Write(text[position..]);
        matches.RemoveRange(first, matches.Count - first);
    }

    // Free text may carry URLs ("see https://x.com/?token=..."): those get the URL rules, the rest the patterns.
    private void RedactFreeText(ReadOnlySpan<byte> text, ArrayBufferWriter<byte> output, RedactionScratch scratch, ref int mask)
    {
        var position = 0;
        var search = 0;
        while (true)
        {
            var found = search < text.Length ? text[search..].IndexOf("://"u8) : -1;
            if (found < 0)
            {
                break;
            }

            var separator = search + found;
            var schemeStart = separator;
            while (schemeStart > position && IsSchemeChar(text[schemeStart - 1]))
            {
                schemeStart--;
            }

            while (schemeStart < separator && !IsAsciiLetter(text[schemeStart]))
            {
                schemeStart++;
            }

            if (schemeStart == separator || GetSchemeLength(text, schemeStart) == 0)
            {
                search = separator + 3;
                continue;
            }

            var end = text[separator..].IndexOfAny(UrlEnd);
            end = end < 0 ? text.Length : separator + end;
            while (end > separator + 3 && text[end - 1] is (byte)'.' or (byte)',' or (byte)';' or (byte)':' or (byte)'!' or (byte)')')
            {
                end--;
            }

            WritePatterns(text[position..schemeStart], output, scratch, ref mask);
            RedactUrl(text[schemeStart..end], output, scratch, ref mask);
            position = end;
            search = end;
        }

        WritePatterns(text[position..], output, scratch, ref mask);

        static bool IsSchemeChar(byte b) =>
            IsAsciiLetter(b) || b is (byte)'+' or (byte)'-' or (byte)'.' or >= (byte)'0' and <= (byte)'9';
    }

    private void RedactUrl(ReadOnlySpan<byte> url, ArrayBufferWriter<byte> output, RedactionScratch scratch, ref int mask)
    {
        var position = 0;
        var scheme = GetSchemeLength(url, 0);
        if (scheme > 0 || url.StartsWith("//"u8))
        {
            position = scheme > 0 ? scheme : 2;
            output.Write(url[..position]);
            var authorityLength = url[position..].IndexOfAny(AuthorityEnd);
            var authority = url.Slice(position, authorityLength < 0 ? url.Length - position : authorityLength);
            var at = authority.LastIndexOf((byte)'@');
            if (at >= 0)
            {
                // user:password@host: the credentials go, the host stays.
                mask |= 1 << (int)PiiKind.Credentials;
                output.Write(authority[(at + 1)..]);
            }
            else
            {
                output.Write(authority);
            }

            position += authority.Length;
        }

        var pathLength = url[position..].IndexOfAny(PathEnd);
        var path = url.Slice(position, pathLength < 0 ? url.Length - position : pathLength);
        RedactSegments(path, output, scratch, ref mask);
        position += path.Length;

        if (position < url.Length && url[position] == (byte)'?')
        {
            output.Write("?"u8);
            var queryLength = url[(position + 1)..].IndexOf((byte)'#');
            var query = url.Slice(position + 1, queryLength < 0 ? url.Length - position - 1 : queryLength);
            RedactParameters(query, output, scratch, ref mask);
            position += 1 + query.Length;
        }

        if (position < url.Length && url[position] == (byte)'#')
        {
            output.Write("#"u8);
            RedactFragment(url[(position + 1)..], output, scratch, ref mask);
        }
    }

    // Fragments carry either a route ("#/users/42") or parameters ("#access_token=...&state=...").
    private void RedactFragment(ReadOnlySpan<byte> fragment, ArrayBufferWriter<byte> output, RedactionScratch scratch, ref int mask)
    {
        if (fragment.IndexOf((byte)'=') >= 0)
        {
            RedactParameters(fragment, output, scratch, ref mask);
        }
        else
        {
            RedactSegments(fragment, output, scratch, ref mask);
        }
    }

    // Path segments keep their text around what is redacted; a segment whose personal data shows only once
    // percent-decoded ("john%2Esmith%40example.com") is replaced whole.
    private static void RedactSegments(ReadOnlySpan<byte> path, ArrayBufferWriter<byte> output, RedactionScratch scratch, ref int mask)
    {
        while (true)
        {
            var slash = path.IndexOf((byte)'/');
            var segment = slash < 0 ? path : path[..slash];
            if (segment.IndexOf((byte)'%') >= 0
                && TryFindFirst(PercentDecode(segment, plusIsSpace: false, scratch), scratch, out var kind))
            {
                output.Write(PiiKinds.Marker(kind));
                mask |= 1 << (int)kind;
            }
            else
            {
                WritePatterns(segment, output, scratch, ref mask);
            }

            if (slash < 0)
            {
                return;
            }

            output.Write("/"u8);
            path = path[(slash + 1)..];
        }
    }

    private void RedactParameters(ReadOnlySpan<byte> query, ArrayBufferWriter<byte> output, RedactionScratch scratch, ref int mask)
    {
        while (true)
        {
            var amp = query.IndexOf((byte)'&');
            var parameter = amp < 0 ? query : query[..amp];
            RedactParameter(parameter, output, scratch, ref mask);
            if (amp < 0)
            {
                return;
            }

            output.Write("&"u8);
            query = query[(amp + 1)..];
        }
    }

    private void RedactParameter(ReadOnlySpan<byte> parameter, ArrayBufferWriter<byte> output, RedactionScratch scratch, ref int mask)
    {
        var equals = parameter.IndexOf((byte)'=');
        var name = equals < 0 ? parameter : parameter[..equals];
        if (TryFindFirst(PercentDecode(name, plusIsSpace: true, scratch), scratch, out var nameKind))
        {
            output.Write(PiiKinds.Marker(nameKind));
            mask |= 1 << (int)nameKind;
        }
        else
        {
            output.Write(name);
        }

        if (equals < 0)
        {
            return;
        }

        output.Write("="u8);
        var value = parameter[(equals + 1)..];
        if (value.IsEmpty)
        {
            return;
        }

        if (TryFindFirst(PercentDecode(value, plusIsSpace: true, scratch), scratch, out var kind))
        {
            output.Write(PiiKinds.Marker(kind));
            mask |= 1 << (int)kind;
        }
        else if (names.IsSecret(PercentDecode(name, plusIsSpace: true, scratch)))
        {
            output.Write(PiiKinds.Marker(PiiKind.Secret));
            mask |= 1 << (int)PiiKind.Secret;
        }
        else
        {
            output.Write(value);
        }
    }

    // Decodes %XX escapes (and '+' in queries) into the scratch buffer; invalid escapes stay as they are.
    private static ReadOnlySpan<byte> PercentDecode(ReadOnlySpan<byte> text, bool plusIsSpace, RedactionScratch scratch)
    {
        if (text.IndexOfAny((byte)'%', (byte)'+') < 0)
        {
            return text;
        }

        var buffer = scratch.Decoded;
        buffer.ResetWrittenCount();
        var destination = buffer.GetSpan(text.Length);
        var length = 0;
        for (var i = 0; i < text.Length; i++)
        {
            var b = text[i];
            if (b == (byte)'%' && i + 2 < text.Length && IsHex(text[i + 1]) && IsHex(text[i + 2]))
            {
                destination[length++] = (byte)((Hex(text[i + 1]) << 4) | Hex(text[i + 2]));
                i += 2;
            }
            else
            {
                destination[length++] = plusIsSpace && b == (byte)'+' ? (byte)' ' : b;
            }
        }

        buffer.Advance(length);
        return buffer.WrittenSpan;

        static bool IsHex(byte b) => b is >= (byte)'0' and <= (byte)'9' || (uint)((b | 0x20) - 'a') <= 'f' - 'a';

        static int Hex(byte b) => b <= (byte)'9' ? b - '0' : (b | 0x20) - 'a' + 10;
    }
}
