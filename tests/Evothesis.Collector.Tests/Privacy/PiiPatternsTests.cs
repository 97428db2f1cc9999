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
    public void Email(string text, string? expected) => Check(text, expected);

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
    public void Phone(string text, string? expected) => Check(text, expected);

    [TestCase("4222222222222", "[c]")]
    [TestCase("4222 2222 22222", "[c]")]
    [TestCase("4111111111111111 4111111111111111", "[c] [c]")]
    [TestCase("4111.1111.1111.1111", null)]
    [TestCase("7111111111111117", null)]
    [TestCase("1111111111111117", null)]
    [TestCase("0000000000000000", null)]
    [TestCase("41111111111111111111", null)]
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
    [TestCase("SSN 123-45-678", null)]
    public void Ssn(string text, string? expected) => Check(text, expected);

    [TestCase("de89370400440532013000", "[i]")]
    [TestCase("DE89370400440532013000.", "[i].")]
    [TestCase("NO9386011117947", "[i]")]
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
    [TestCase("422222222222", false)]
    [TestCase("41111111111111111111", false)]
    [TestCase("1111111111111117", false)]
    [TestCase("7111111111111117", false)]
    [TestCase("4111111111111112", false)]
    [TestCase("-4111111111111111", false)]
    [TestCase("0000000000000", false)]
    public void IsCardNumber_JsonIntegerDigits(string digits, bool expected) =>
        PiiPatterns.IsCardNumber(System.Text.Encoding.UTF8.GetBytes(digits)).Should().Be(expected);

    // null: the text comes through unchanged. Markers are abbreviated to their rule's initial.
    private static void Check(string text, string? expected)
    {
        var redacted = Redactor.TryRedactText(text, "note", recorder: null, out var output) ? output : null;

        Abbreviate(redacted).Should().Be(expected, text);
    }

    private static string? Abbreviate(string? text) => text?
        .Replace("[redacted:email]", "[e]", StringComparison.Ordinal)
        .Replace("[redacted:phone]", "[p]", StringComparison.Ordinal)
        .Replace("[redacted:card]", "[c]", StringComparison.Ordinal)
        .Replace("[redacted:ssn]", "[s]", StringComparison.Ordinal)
        .Replace("[redacted:iban]", "[i]", StringComparison.Ordinal);
}
