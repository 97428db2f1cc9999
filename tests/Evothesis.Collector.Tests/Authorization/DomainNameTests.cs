using Evothesis.Collector.Authorization;

namespace Evothesis.Collector.Tests.Authorization;

[TestFixture]
public sealed class DomainNameTests
{
    [TestCase("shop.acme.com", "shop.acme.com")]
    [TestCase("Shop.ACME.com", "shop.acme.com")]
    [TestCase("shop.acme.com.", "shop.acme.com")]
    [TestCase("shop.acme.com:8443", "shop.acme.com")]
    [TestCase(" shop.acme.com ", "shop.acme.com")]
    [TestCase("bücher.de", "xn--bcher-kva.de")]
    [TestCase("BÜCHER.de", "xn--bcher-kva.de")]
    [TestCase("xn--bcher-kva.de", "xn--bcher-kva.de")]
    [TestCase("127.0.0.1", "127.0.0.1")]
    [TestCase("localhost:8000", "localhost")]
    [TestCase("a-b.c", "a-b.c")]
    [TestCase("shop\u3002acme\u3002com", "shop.acme.com")]
    [TestCase("shop\uFF0Eacme\uFF0Ecom", "shop.acme.com")]
    [TestCase("shop\uFF61acme\uFF61com", "shop.acme.com")]
    [TestCase("shop.acme.com:65535", "shop.acme.com")]
    [TestCase("shop.acme.com:0", "shop.acme.com")]
    [TestCase("cafe\u0301.fr", "xn--caf-dma.fr")]
    [TestCase("\u30B3\u30FC\u30D2\u30FC.jp", "xn--tck2c4fb.jp")]
    [TestCase("\u0939\u093F\u0902\u0926\u0940.in", "xn--i1b6e8byah.in")]
    public void TryNormalizeHost_ValidHost_ReturnsNormalisedDomain(string host, string expected)
    {
        DomainName.TryNormalizeHost(host, out var domain).Should().BeTrue();
        domain.Should().Be(expected);
        DomainName.IsNormalized(domain).Should().BeTrue();
    }

    [TestCase("")]
    [TestCase(" ")]
    [TestCase(".")]
    [TestCase("..")]
    [TestCase("../admin")]
    [TestCase("shop..acme.com")]
    [TestCase(".shop.acme.com")]
    [TestCase("shop.acme.com/admin")]
    [TestCase("shop.acme.com\\admin")]
    [TestCase("shop.acme.com?x")]
    [TestCase("shop.acme.com#x")]
    [TestCase("%2e%2e")]
    [TestCase("shop%2eacme.com")]
    [TestCase("shop.acme.com%2F..%2Fadmin")]
    [TestCase("user@shop.acme.com")]
    [TestCase("user:pass@shop.acme.com")]
    [TestCase("[::1]")]
    [TestCase("::1")]
    [TestCase("shop.acme.com:")]
    [TestCase("shop.acme.com:65536")]
    [TestCase("shop.acme.com:99999")]
    [TestCase("shop.acme.com:000080")]
    [TestCase("shop.acme.com:80:80")]
    [TestCase("shop.acme.com:http")]
    [TestCase("-shop.acme.com")]
    [TestCase("shop-.acme.com")]
    [TestCase("shop_acme.com")]
    [TestCase("shop acme.com")]
    [TestCase("shop\tacme.com")]
    [TestCase("shop.acme.com\r\nX-Injected: 1")]
    [TestCase("shop\0acme.com")]
    [TestCase("shop.acme.com\u2215admin")]
    [TestCase("shop.acme.com\uFF0F..\uFF0Fadmin")]
    [TestCase("shop\uFF05 2e.com")]
    [TestCase("shop.acme.com\u200B")]
    public void TryNormalizeHost_HostileOrMalformedHost_IsRefused(string host)
    {
        DomainName.TryNormalizeHost(host, out var domain).Should().BeFalse();
        domain.Should().BeEmpty();
    }

    [Test]
    public void TryNormalizeHost_Lengths_FollowDns()
    {
        var label63 = new string('a', 63);
        DomainName.TryNormalizeHost(label63 + ".com", out _).Should().BeTrue();
        DomainName.TryNormalizeHost(new string('a', 64) + ".com", out _).Should().BeFalse();

        // 4 labels of 61 + 3 dots = 247, plus ".abcde" = 253.
        var longest = string.Join('.', Enumerable.Repeat(new string('b', 61), 4)) + ".abcde";
        longest.Length.Should().Be(DomainName.MaxLength);
        DomainName.TryNormalizeHost(longest, out var domain).Should().BeTrue();
        domain.Should().HaveLength(253);
        DomainName.TryNormalizeHost(longest + "f", out _).Should().BeFalse();
        DomainName.TryNormalizeHost(new string('a', 10_000), out _).Should().BeFalse();
    }

    [Test]
    public void TryNormalizeHost_IdnThatBecomesTooLong_IsRefused()
    {
        // Each "ü" label grows when encoded as punycode.
        var host = string.Join('.', Enumerable.Repeat(new string('ü', 20), 10));
        DomainName.TryNormalizeHost(host, out _).Should().BeFalse();
    }

    [TestCase("https://shop.acme.com", "shop.acme.com")]
    [TestCase("HTTPS://Shop.Acme.com:443/", "shop.acme.com")]
    [TestCase("http://localhost:8000/products.html?q=1#top", "localhost")]
    [TestCase("https://bücher.de/katalog", "xn--bcher-kva.de")]
    [TestCase("https://evil.example#@shop.acme.com", "evil.example")]
    [TestCase("https://evil.example?@shop.acme.com", "evil.example")]
    public void TryFromUrl_HttpUrl_ReturnsItsHostsDomain(string url, string expected)
    {
        DomainName.TryFromUrl(url, out var domain).Should().BeTrue();
        domain.Should().Be(expected);
    }

    [TestCase("null")]
    [TestCase("shop.acme.com")]
    [TestCase("ftp://shop.acme.com")]
    [TestCase("file:///etc/passwd")]
    [TestCase("javascript:alert(1)")]
    [TestCase("https://")]
    [TestCase("https:///admin")]
    [TestCase("https://user@shop.acme.com")]
    [TestCase("https://shop.acme.com@evil.example")]
    [TestCase("https://shop.acme.com:443@evil.example")]
    [TestCase("https://evil.example\\@shop.acme.com")]
    [TestCase("https://evil.example\\shop.acme.com")]
    [TestCase("https://%65vil.example")]
    [TestCase("https://shop.acme.com%2F..%2Fadmin")]
    [TestCase("https://[::1]:8000")]
    [TestCase("https://../admin")]
    public void TryFromUrl_NotAnHttpUrlWithAValidHost_IsRefused(string url)
    {
        DomainName.TryFromUrl(url, out _).Should().BeFalse();
    }

    [TestCase("https://shop.acme.com", "shop.acme.com")]
    [TestCase("http://localhost:8000", "localhost")]
    [TestCase("https://xn--bcher-kva.de", "xn--bcher-kva.de")]
    [TestCase("http://localhost:8000/", "localhost")]
    public void TryFromOrigin_SerializedOrigin_ReturnsDomain(string origin, string expected)
    {
        DomainName.TryFromOrigin(origin, out var domain).Should().BeTrue();
        domain.Should().Be(expected);
    }

    [TestCase("https://shop.acme.com//")]
    [TestCase("https://shop.acme.com/x/")]
    [TestCase("https://shop.acme.com/../admin")]
    [TestCase("https://shop.acme.com?x")]
    [TestCase("https://shop.acme.com#x")]
    [TestCase("shop.acme.com")]
    [TestCase("null")]
    [TestCase("")]
    public void TryFromOrigin_AnythingButAnOrigin_IsRefused(string origin) =>
        DomainName.TryFromOrigin(origin, out _).Should().BeFalse();

    [TestCase(null)]
    [TestCase("")]
    [TestCase("ftp://shop.acme.com")]
    public void TryFromUrl_Refused_LeavesTheDomainEmpty(string? url)
    {
        DomainName.TryFromUrl(url, out var domain).Should().BeFalse();
        domain.Should().BeEmpty();
    }

    [TestCase("https://shop.acme.com//")]
    [TestCase("https://shop.acme.com?x")]
    public void TryFromOrigin_Refused_LeavesTheDomainEmpty(string origin)
    {
        DomainName.TryFromOrigin(origin, out var domain).Should().BeFalse();
        domain.Should().BeEmpty();
    }

    [TestCase("shop.acme.com", "shop.acme.com")]
    [TestCase("https://shop.acme.com/p", "shop.acme.com")]
    [TestCase("SHOP.acme.com", "shop.acme.com")]
    public void TryFromSiteId_HostOrUrl_ReturnsDomain(string siteId, string expected)
    {
        DomainName.TryFromSiteId(siteId, out var domain).Should().BeTrue();
        domain.Should().Be(expected);
    }

    [TestCase("../admin")]
    [TestCase("https://user@shop.acme.com")]
    [TestCase("shop.acme.com/../admin")]
    public void TryFromSiteId_Hostile_IsRefused(string siteId) =>
        DomainName.TryFromSiteId(siteId, out _).Should().BeFalse();

    [TestCase("shop.acme.com", true)]
    [TestCase("Shop.acme.com", false)]
    [TestCase("shop.acme.com.", false)]
    [TestCase("bücher.de", false)]
    [TestCase("../admin", false)]
    [TestCase("", false)]
    [TestCase(null, false)]
    [TestCase("shop..acme.com", false)]
    [TestCase(".acme.com", false)]
    [TestCase("shop-.acme.com", false)]
    [TestCase("-shop.acme.com", false)]
    [TestCase("shop.acme-", false)]
    [TestCase("shop_1.acme.com", false)]
    [TestCase("7-eleven.example", true)]
    public void IsNormalized_TellsNormalisedNamesApart(string? value, bool expected) =>
        DomainName.IsNormalized(value).Should().Be(expected);
}
