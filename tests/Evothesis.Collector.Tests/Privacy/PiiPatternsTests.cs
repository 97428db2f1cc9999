using Evothesis.Collector.Privacy;
using Evothesis.Collector.Privacy.Internal;

namespace Evothesis.Collector.Tests.Privacy;

/// <summary>
/// The bounds of each pattern rule as docs/privacy.md states them ("Redaction", the rules table): the smallest and
/// largest shapes each rule takes, and the nearest shapes it leaves alone. The corpus holds the everyday cases.
/// </summary>
public sealed class PiiPatternsTests
{
    private static readonly JsonRedactor Redactor = new(new PrivacyOptions());

    [TestCase("x@example.com-", "[e]-")]
    [TestCase(".john@example.com", ".[e]")]
    [TestCase("..john@example.com", "..[e]")]
    [TestCase("jane@пример.рф", "[e]")]
    [TestCase("jane@example.xn--p1ai", "[e]")]
    [TestCase("to:jane%40example.com,", "to:[e],")]
    [TestCase("user@localhost", null)]
    [TestCase("a@b.c", null)]
    [TestCase("x@-example.com", null)]
    [TestCase("x@example..com", null)]
    [TestCase("x@.example.com", null)]
    [TestCase("@example.com", null)]
    [TestCase("..@example.com", null)]
    [TestCase("x@example.c0m", null)]
    [TestCase("logo@2X.PNG", null)]
    [TestCase("icon@3x.webp and sprite@2x.svg", null)]
    [TestCase("100%4", null)]
    [TestCase("50%40", null)]
    [TestCase("a%4", null)]
    [TestCase("jane%20example.com", null)]
    [TestCase("a%30b.com", null)]
    [TestCase("a%40.example.com", null)]
    [TestCase("%20jane%40example.com", "[e]")]
    [TestCase("12345@example.com", "[e]")]
    [TestCase("jane@example.com@evil.org", "[e]")]
    [TestCase("DE89370400440532013000@example.com", "[e]")]
    [TestCase("555-123-4567@example.com", "[e]")]
    [TestCase("555-123-4567@example.com and x@y.com", "[e] and [e]")]
    [TestCase("{jane@example.com}", "{[e]}")]
    [TestCase("liz@example.cz", "[e]")]
    [TestCase("пётр@example.com", "[e]")]
    public void Email(string text, string? expected) => Check(text, expected);

    // Real addresses have at most 64 bytes before the '@' and 253 after it; a longer run is cut there, so a scan
    // never reaches back further, whatever the text.
    [Test]
    public void Email_LocalPartOf64Bytes_IsWholeAndALongerOneCutThere()
    {
        Check(new string('a', 64) + "@example.com", "[e]");
        Check(new string('a', 65) + "@example.com", "a[e]");
    }

    [Test]
    public void Email_DomainOf253Bytes_IsWholeAndALongerOneCutThere()
    {
        var labels = string.Join('.', Enumerable.Repeat(new string('d', 49), 5)); // 249 bytes
        Check("x@" + labels + ".com", "[e]");
        Check("x@" + labels + ".comx", "[e]x");
    }

    [TestCase("call +1 555 123 4567.jane@example.com", "call [p]")]
    public void Email_OverlappingANumber_CoversBoth(string text, string? expected) => Check(text, expected);

    // File names with a density suffix look like addresses; none of these extensions is a top-level domain.
    [TestCase("png")]
    [TestCase("jpg")]
    [TestCase("jpeg")]
    [TestCase("gif")]
    [TestCase("svg")]
    [TestCase("webp")]
    [TestCase("avif")]
    [TestCase("ico")]
    [TestCase("bmp")]
    [TestCase("tif")]
    [TestCase("tiff")]
    [TestCase("css")]
    [TestCase("js")]
    [TestCase("mjs")]
    [TestCase("map")]
    [TestCase("json")]
    [TestCase("html")]
    [TestCase("htm")]
    [TestCase("php")]
    [TestCase("txt")]
    [TestCase("pdf")]
    [TestCase("xml")]
    public void Email_FileNameWithAnAt_IsNotAnAddress(string extension) => Check($"/assets/hero@2x.{extension}", null);

    [TestCase("+500 12345", "[p]")]
    [TestCase("+50012345", "[p]")]
    [TestCase("+500 1234", null)]
    [TestCase("(555)123-4567", "[p]")]
    [TestCase("+1 (555) 123-4567", "[p]")]
    [TestCase("call 555 123 4567.", "call [p].")]
    [TestCase("555 123 456", null)]
    [TestCase("55.123.4567", null)]
    [TestCase("555.12.34567", null)]
    [TestCase("5551234567", null)]
    [TestCase("01223 123456", "[p]")]
    [TestCase("06221 123 456", "[p]")]
    [TestCase("12345 67890", null)]
    [TestCase("012345 67890", null)]
    [TestCase("11-26-2026 10:00", null)]
    [TestCase("2026/11/26", null)]
    [TestCase("ORD-555-123-4567", null)]
    [TestCase("x_555-123-4567", null)]
    [TestCase("é555-123-4567", null)]
    [TestCase("v.555.123.4567", null)]
    [TestCase("555-123-4567x", null)]
    [TestCase("+ 555 123 4567", "+ [p]")]
    [TestCase("(+)", null)]
    [TestCase("+(x)", null)]
    [TestCase("+(x) 555-123-4567", "+(x) [p]")]
    [TestCase("5555.123.4567", null)]
    [TestCase("06.12.34.56.78", "[p]")]
    [TestCase("06.12.34.56.78.90", "[p].90")]
    [TestCase("16.12.34.56.78", null)]
    [TestCase("06.12.34.56", null)]
    [TestCase("06.12.34.56.789", null)]
    [TestCase("06.123.34.56.78", null)]
    [TestCase("+(555) 123-4567", "[p]")]
    [TestCase("msg @+15551234567", "msg @[p]")]
    [TestCase("555-123-4567 or +", "[p] or +")]
    [TestCase("-555-123-4567", "-[p]")]
    [TestCase("a-555-123-4567", null)]
    [TestCase("[555-123-4567]", "[[p]]")]
    [TestCase("р555-123-4567", null)]
    [TestCase("555 1234567", "[p]")]
    [TestCase("call 0612 34 56 78", "call [p]")]
    [TestCase("+123 456 789 012 345", "[p]")]
    [TestCase("+1 555 123 4567 8901 2345", "[p] 2345")]
    [TestCase("+1 2 3 4 5 6 78", null)]
    [TestCase("2026.11.26 555.123.4567", "2026.11.26 [p]")]
    [TestCase("11/26/2026 1430", null)]
    [TestCase("2026-11-26 1430", null)]
    [TestCase("1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23 24 25 26 27 28 29 30", null)]
    [TestCase("1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23 24 25 26 27 28 29 30, 555-123-4567", "1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23 24 25 26 27 28 29 30, [p]")]
    public void Phone(string text, string? expected) => Check(text, expected);

    [TestCase("4222222222222", "[c]")]
    [TestCase("4222 2222 22222", "[c]")]
    [TestCase("4111111111111111 4111111111111111", "[c] [c]")]
    [TestCase("4111.1111.1111.1111", null)]
    [TestCase("7111111111111117", null)]
    [TestCase("1111111111111117", null)]
    [TestCase("0000000000000000", null)]
    [TestCase("41111111111111111111", null)]
    [TestCase("6011 0009 9013 9424 009", "[c]")]
    [TestCase("6011000990139424009", "[c]")]
    public void Card(string text, string? expected) => Check(text, expected);

    [TestCase("123 45 6789", "[s]")]
    [TestCase("666-12-3456", null)]
    [TestCase("900-12-3456", null)]
    [TestCase("000-12-3456", null)]
    [TestCase("123-00-4567", null)]
    [TestCase("123-45-0000", null)]
    // Longer runs are not SSNs; with 10 digits or more they have the shape of a phone number.
    [TestCase("123-45-6789-01", "[p]")]
    [TestCase("01-123-45-6789", "[p]")]
    [TestCase("123-45 6789", null)]
    [TestCase("123.45.6789", null)]
    [TestCase("123/45/6789", null)]
    [TestCase("1234-56-7890", "[p]")]
    [TestCase("visit 2026-11-26 123-45-6789", "visit 2026-11-26 [s]")]
    [TestCase("visit 2026.11.26 123 45 6789", "visit 2026.11.26 [s]")]
    [TestCase("on 26/11/2026 123 45 6789", "on 26/11/2026 [s]")]
    [TestCase("12 123 45 6789", "[p]")]
    [TestCase("123 45 6789 12", "[p]")]
    [TestCase("ref 123-45, call 555-123-4567", "ref 123-45, call [p]")]
    [TestCase("SSN 123-45-678", null)]
    public void Ssn(string text, string? expected) => Check(text, expected);

    [TestCase("de89370400440532013000", "[i]")]
    [TestCase("DE89370400440532013000.", "[i].")]
    [TestCase("NO9386011117947", "[i]")]
    [TestCase("GB32ZZZZ12345698765432", "[i]")]
    [TestCase("DE89 3704 0044 0532 0130 00 12", "[i] 12")]
    [TestCase("NL91 ABNA 0417 1643 ", null)]
    [TestCase("DE89 3704 0044 0532 0130 00X", null)]
    [TestCase("DE89370400440532013000X", null)]
    [TestCase("XX89370400440532013000", null)]
    [TestCase("DE8937040044053201300", null)]
    [TestCase("ABDE89370400440532013000", null)]
    [TestCase("DE89-3704-0044-0532-0130-00", null)]
    [TestCase("DE8", null)]
    public void Iban(string text, string? expected) => Check(text, expected);

    [TestCase("4111111111111111", true)]
    [TestCase("4222222222222", true)]
    [TestCase("6011000990139424", true)]
    [TestCase("2223003122003222", true)]
    [TestCase("6011000990139424009", true)]
    [TestCase("41111111111111111115", false)]
    [TestCase("422222222222", false)] // Luhn-valid, but 12 digits
    [TestCase("41111111111111111111", false)]
    [TestCase("1111111111111117", false)]
    [TestCase("7111111111111114", false)] // Luhn-valid, but no card starts with 7
    [TestCase("4111111111111112", false)]
    [TestCase("-4111111111111111", false)]
    [TestCase("0000000000000", false)]
    public void IsCardNumber_JsonIntegerDigits(string digits, bool expected) =>
        PiiPatterns.IsCardNumber(System.Text.Encoding.UTF8.GetBytes(digits)).Should().Be(expected);

    // null: the text comes through unchanged. Markers are abbreviated to their rule's initial.
    internal static void Check(string text, string? expected)
    {
        var redacted = Redactor.TryRedactText(text, "note", recorder: null, out var output) ? output : null;

        Abbreviate(redacted).Should().Be(expected, text);
    }

    private static string? Abbreviate(string? text) => text?
        .Replace("[redacted:email]", "[e]", StringComparison.Ordinal)
        .Replace("[redacted:phone]", "[p]", StringComparison.Ordinal)
        .Replace("[redacted:card]", "[c]", StringComparison.Ordinal)
        .Replace("[redacted:ssn]", "[s]", StringComparison.Ordinal)
        .Replace("[redacted:iban]", "[i]", StringComparison.Ordinal)
        .Replace("[redacted:secret]", "[x]", StringComparison.Ordinal);
}
