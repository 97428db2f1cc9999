using System.Globalization;

namespace Evothesis.Collector.Authorization;

/// <summary>
/// Turns the hostile strings a request names its site with (<c>Origin</c>, <c>Referer</c>, a body
/// <c>siteId</c>) into a normalised domain name that is safe to look up and to place in a URL path.
/// </summary>
/// <remarks>
/// A normalised domain is lower case, IDN as punycode, without port, trailing dot, path, user
/// information or percent-encoding, at most 253 characters, made of labels of 1 to 63 letters, digits
/// and inner hyphens. IPv4 literals pass (they are how <c>http://127.0.0.1</c> pages name themselves);
/// IPv6 literals do not.
/// </remarks>
internal static class DomainName
{
    /// <summary>The longest domain name DNS allows.</summary>
    public const int MaxLength = 253;

    private const int MaxLabelLength = 63;

    private static readonly IdnMapping Idn = new() { UseStd3AsciiRules = true, AllowUnassigned = false };

    /// <summary>Normalises a host name.</summary>
    /// <param name="host">A host name such as <c>Shop.Acme.COM.</c> or <c>bücher.de</c>; an optional port is dropped.</param>
    /// <param name="domain">The normalised domain, such as <c>shop.acme.com</c> or <c>xn--bcher-kva.de</c>.</param>
    /// <returns><see langword="true"/> when <paramref name="host"/> is a valid host name.</returns>
    public static bool TryNormalizeHost(string? host, out string domain)
    {
        domain = string.Empty;
        if (string.IsNullOrEmpty(host) || host.Length > 2 * MaxLength)
        {
            return false;
        }

        var span = host.AsSpan().Trim();
        var colon = span.LastIndexOf(':');
        if (colon >= 0)
        {
            if (!IsPort(span[(colon + 1)..]))
            {
                return false;
            }

            span = span[..colon];
        }

        if (span.EndsWith("."))
        {
            span = span[..^1];
        }

        if (span.IsEmpty || span.ContainsAny(ForbiddenInHost) || !HasOnlyHostCharacters(span))
        {
            return false;
        }

        string ascii;
        try
        {
            ascii = Idn.GetAscii(span.ToString());
        }
        catch (ArgumentException)
        {
            return false;
        }

        ascii = ascii.ToLowerInvariant();
        if (!IsValidAsciiDomain(ascii))
        {
            return false;
        }

        domain = ascii;
        return true;
    }

    /// <summary>
    /// Tells whether a string already is a normalised domain name, as <see cref="TryNormalizeHost"/> returns it:
    /// safe to use as a cache key and as one segment of a URL path.
    /// </summary>
    /// <param name="domain">The string to check.</param>
    /// <returns><see langword="true"/> when <paramref name="domain"/> is lower-case ASCII letters, digits, inner hyphens and dots between labels.</returns>
    public static bool IsNormalized(string? domain) => domain is not null && IsValidAsciiDomain(domain);

    /// <summary>Takes the domain from an absolute <c>http</c> or <c>https</c> URL, such as an <c>Origin</c> or <c>Referer</c> header.</summary>
    /// <param name="url">The URL.</param>
    /// <param name="domain">The normalised domain of its host.</param>
    /// <returns><see langword="true"/> when <paramref name="url"/> is such a URL with a valid host.</returns>
    public static bool TryFromUrl(string? url, out string domain)
    {
        domain = string.Empty;
        if (string.IsNullOrEmpty(url))
        {
            return false;
        }

        var span = url.AsSpan().Trim();
        int schemeLength;
        if (span.StartsWith("https://", StringComparison.OrdinalIgnoreCase))
        {
            schemeLength = "https://".Length;
        }
        else if (span.StartsWith("http://", StringComparison.OrdinalIgnoreCase))
        {
            schemeLength = "http://".Length;
        }
        else
        {
            return false;
        }

        var rest = span[schemeLength..];
        var end = rest.IndexOfAny("/?#");
        var authority = end < 0 ? rest : rest[..end];

        // User information ("user@host") and backslashes are ways to make one string name two hosts.
        if (authority.IsEmpty || authority.ContainsAny("@\\"))
        {
            return false;
        }

        return TryNormalizeHost(authority.ToString(), out domain);
    }

    /// <summary>
    /// Takes the domain from an <c>Origin</c> header: <c>http(s)://host[:port]</c> and nothing else, as browsers
    /// serialize it (a trailing slash is tolerated). A path, query or fragment means the value was not written by a
    /// browser, and it is refused.
    /// </summary>
    /// <param name="origin">The <c>Origin</c> header.</param>
    /// <param name="domain">The normalised domain of its host.</param>
    /// <returns><see langword="true"/> when <paramref name="origin"/> is such an origin with a valid host.</returns>
    public static bool TryFromOrigin(string? origin, out string domain)
    {
        domain = string.Empty;
        if (string.IsNullOrEmpty(origin))
        {
            return false;
        }

        // A lone trailing slash is tolerated: hand-written curl commands often have one.
        var span = origin.AsSpan().Trim();
        if (span.EndsWith("/") && !span.EndsWith("//"))
        {
            span = span[..^1];
        }

        var scheme = span.IndexOf("://", StringComparison.Ordinal);
        if (scheme < 0 || span[(scheme + 3)..].ContainsAny("/?#"))
        {
            return false;
        }

        return TryFromUrl(span.ToString(), out domain);
    }

    /// <summary>Normalises a <c>siteId</c>: either a bare host name or an <c>http(s)</c> URL.</summary>
    /// <param name="siteId">The site identifier the body names.</param>
    /// <param name="domain">The normalised domain.</param>
    /// <returns><see langword="true"/> when <paramref name="siteId"/> names a valid host.</returns>
    public static bool TryFromSiteId(string? siteId, out string domain)
    {
        if (siteId is not null && siteId.Contains("://", StringComparison.Ordinal))
        {
            return TryFromUrl(siteId, out domain);
        }

        return TryNormalizeHost(siteId, out domain);
    }

    // IDN mapping turns look-alikes of URL syntax (U+2215 DIVISION SLASH, fullwidth solidus) into the characters
    // they imitate, or drops invisible ones: outside ASCII, only what names are written with gets that far.
    private static bool HasOnlyHostCharacters(ReadOnlySpan<char> host)
    {
        foreach (var c in host)
        {
            if (char.IsAscii(c))
            {
                if (char.IsControl(c))
                {
                    return false;
                }

                continue;
            }

            switch (char.GetUnicodeCategory(c))
            {
                case UnicodeCategory.UppercaseLetter:
                case UnicodeCategory.LowercaseLetter:
                case UnicodeCategory.TitlecaseLetter:
                case UnicodeCategory.ModifierLetter:
                case UnicodeCategory.OtherLetter:
                case UnicodeCategory.NonSpacingMark:
                case UnicodeCategory.SpacingCombiningMark:
                case UnicodeCategory.EnclosingMark:
                case UnicodeCategory.DecimalDigitNumber:
                case UnicodeCategory.Surrogate:
                    continue;
                case UnicodeCategory.Format when c is '\u200C' or '\u200D':
                    // Zero-width (non-)joiners are part of how some scripts are spelled (IDNA CONTEXTJ).
                    continue;
                case UnicodeCategory.OtherPunctuation when c is '\u3002' or '\uFF0E' or '\uFF61':
                    // Ideographic and fullwidth full stops: IDNA label separators.
                    continue;
                default:
                    return false;
            }
        }

        return true;
    }

    private static bool IsPort(ReadOnlySpan<char> value)
    {
        if (value.IsEmpty || value.Length > 5)
        {
            return false;
        }

        var port = 0;
        foreach (var c in value)
        {
            if (!char.IsAsciiDigit(c))
            {
                return false;
            }

            port = (port * 10) + (c - '0');
        }

        return port <= ushort.MaxValue;
    }

    // Characters that never belong in a host and would change a URL's meaning if they reached one:
    // path and query separators, percent-encoding, user information, whitespace and brackets.
    private static ReadOnlySpan<char> ForbiddenInHost => "/\\?#%@[] \t\r\n:";

    private static bool IsValidAsciiDomain(string domain)
    {
        if (domain.Length is 0 or > MaxLength)
        {
            return false;
        }

        var labelLength = 0;
        var previous = '.';
        foreach (var c in domain)
        {
            if (c == '.')
            {
                if (labelLength == 0 || previous == '-')
                {
                    return false;
                }

                labelLength = 0;
            }
            else if (char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c == '-')
            {
                if ((labelLength == 0 && c == '-') || ++labelLength > MaxLabelLength)
                {
                    return false;
                }
            }
            else
            {
                return false;
            }

            previous = c;
        }

        return labelLength > 0 && previous != '-';
    }
}
