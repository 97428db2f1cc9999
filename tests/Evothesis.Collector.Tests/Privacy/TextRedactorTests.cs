namespace Evothesis.Collector.Tests.Privacy;

/// <summary>
/// The URL rules at their edges (docs/privacy.md, "URLs"): where a URL starts and ends in text, which parts are
/// kept, and how escapes are read. Markers are abbreviated as in <see cref="PiiPatternsTests"/>; <c>[x]</c> is a secret.
/// </summary>
public sealed class TextRedactorTests
{
    // Schemes are a letter, then letters, digits, '+', '-' or '.' (RFC 3986).
    [TestCase("s3://bucket/k?token=abc", "s3://bucket/k?token=[x]")]
    [TestCase("z39.50s://host/db?token=abc", "z39.50s://host/db?token=[x]")]
    [TestCase("see z39.50s://host/db?token=abc", "see z39.50s://host/db?token=[x]")]
    [TestCase("see git+ssh://host/r?token=abc", "see git+ssh://host/r?token=[x]")]
    [TestCase("see s3://b/k?token=abc and s30://b/k?token=abc", "see s3://b/k?token=[x] and s30://b/k?token=[x]")]
    [TestCase("Step 1.https://x.com/r?token=abc", "Step 1.https://x.com/r?token=[x]")]
    [TestCase("mail me via https://x.com/r?token=abc", "mail me via https://x.com/r?token=[x]")]
    [TestCase("://x then https://y.com/?token=abc", "://x then https://y.com/?token=[x]")]
    [TestCase("3://x.com/?token=abc", null)]
    public void UrlInText(string text, string? expected) => Check(text, expected);

    [TestCase("https://x.com?token=abc", "https://x.com?token=[x]")]
    [TestCase("https://x.com/r?token=abc.", "https://x.com/r?token=[x]")]
    [TestCase("https://x.com/?passw%6Frd=hunter2", "https://x.com/?passw%6Frd=[x]")]
    [TestCase("https://x.com/?passw%6frd=hunter2", "https://x.com/?passw%6frd=[x]")]
    [TestCase("file:///home/jane@example.com/x", "file:///home/[e]/x")]
    [TestCase("/jane@example.com/settings", "/[e]/settings")]
    [TestCase("https://@example.com/", "https://example.com/")]
    [TestCase("https://x.com/?=abc&e=jane%40x.com", "https://x.com/?=abc&e=[e]")]
    [TestCase("https://x.com/?call+555+123+4567=1", "https://x.com/?[p]=1")]
    [TestCase("https://x.com/?%2B15551234567=1&%2B15551234568=2", "https://x.com/?[p]=1&[p]=2")]
    [TestCase("https://x.com/?a@b.com=1&c@d.com=2", "https://x.com/?[e]=1&[e]=2")]
    [TestCase("https://x.com/?to=a%40b.com&cc=c%40d.com", "https://x.com/?to=[e]&cc=[e]")]
    [TestCase("https://x.com/?token=a&password=b", "https://x.com/?token=[x]&password=[x]")]
    [TestCase("https://x.com/?e=jane%40example.com&q=red%20shoes", "https://x.com/?e=[e]&q=red%20shoes")]
    public void UrlParts(string text, string? expected) => Check(text, expected);

    // A path segment whose personal data shows only once decoded is replaced whole.
    [TestCase("https://x.com/u/%2B15551234567", "https://x.com/u/[p]")]
    [TestCase("https://x.com/a/%2B15551234567/b/%2B15551234568", "https://x.com/a/[p]/b/[p]")]
    [TestCase("https://x.com/u/jane%40example%2Ecom/edit", "https://x.com/u/[e]/edit")]
    [TestCase("https://x.com/s/50%25-off?e=a%40b.com", "https://x.com/s/50%25-off?e=[e]")]
    [TestCase("https://x.com/u/call%20555+123+4567", null)] // '+' is a space in a query only
    public void UrlPathSegments(string text, string? expected) => Check(text, expected);

    // %XX with upper- or lower-case hex digits, '+' as a space in queries; an incomplete escape stays as it is.
    [TestCase("https://x.com/s?q=call%20555%20123%204567", "https://x.com/s?q=[p]")]
    [TestCase("https://x.com/s?q=(555%29%20123-4567", "https://x.com/s?q=[p]")]
    [TestCase("https://x.com/s?q=%2B15551234567", "https://x.com/s?q=[p]")]
    [TestCase("https://x.com/s?q=%2b15551234567", "https://x.com/s?q=[p]")]
    [TestCase("https://x.com/s?q=50%4&e=a%40b.com", "https://x.com/s?q=50%4&e=[e]")]
    [TestCase("https://x.com/s?q=50%&e=a%40b.com", "https://x.com/s?q=50%&e=[e]")]
    public void PercentEscapes(string text, string? expected) => Check(text, expected);

    private static void Check(string text, string? expected) =>
        PiiPatternsTests.Check(text, expected);
}
