using Evothesis.Collector.Authorization;

namespace Evothesis.Collector.Tests.Authorization;

public class DomainNameTests
{
    [TestCase("shop.acme.com", "shop.acme.com")]
    [TestCase("Shop.ACME.com", "shop.acme.com")]
    [TestCase("shop.acme.com.", "shop.acme.com")]
    [TestCase("shop.acme.com:8443", "shop.acme.com")]
    [TestCase("localhost", "localhost")]
    [TestCase("127.0.0.1", "127.0.0.1")]
    [TestCase("bücher.de", "xn--bcher-kva.de")]
    [TestCase("xn--bcher-kva.de", "xn--bcher-kva.de")]
    [TestCase("a-b.c-d.example", "a-b.c-d.example")]
    public void TryNormalizeHost_ValidHost_IsNormalised(string host, string expected)
    {
        DomainName.TryNormalizeHost(host, out var domain).Should().BeTrue();
        domain.Should().Be(expected);
    }

    [TestCase("")]
    [TestCase(" ")]
    [TestCase(".")]
    [TestCase("..")]
    [TestCase("a..b")]
    [TestCase("../admin")]
    [TestCase("acme.com/../admin")]
    [TestCase("acme.com/path")]
    [TestCase("acme.com?x=1")]
    [TestCase("acme.com#x")]
    [TestCase("acme%2ecom")]
    [TestCase("user@acme.com")]
    [TestCase("-acme.com")]
    [TestCase("acme-.com")]
    [TestCase("acme.com:")]
    [TestCase("acme.com:99999x")]
    [TestCase("[::1]")]
    [TestCase("::1")]
    [TestCase("acme com")]
    [TestCase("acme_com.com")]
    [TestCase("acme\\com")]
    public void TryNormalizeHost_InvalidHost_IsRefused(string host)
    {
        DomainName.TryNormalizeHost(host, out _).Should().BeFalse();
    }

    [Test]
    public void TryNormalizeHost_LengthLimits_AreEnforced()
    {
        var label63 = new string('a', 63);
        DomainName.TryNormalizeHost(label63 + ".com", out _).Should().BeTrue();
        DomainName.TryNormalizeHost(new string('a', 64) + ".com", out _).Should().BeFalse();

        var name253 = string.Join('.', Enumerable.Repeat(new string('a', 62), 4)) + ".a"; // 4*63 + 1 = 253
        name253.Length.Should().Be(253);
        DomainName.TryNormalizeHost(name253, out _).Should().BeTrue();
        DomainName.TryNormalizeHost(name253 + "a", out _).Should().BeFalse();
    }

    [TestCase("https://shop.acme.com", "shop.acme.com")]
    [TestCase("http://localhost:8000", "localhost")]
    [TestCase("https://shop.acme.com/p?q=1#frag", "shop.acme.com")]
    [TestCase("HTTPS://Shop.Acme.Com:443/", "shop.acme.com")]
    [TestCase("https://bücher.de/", "xn--bcher-kva.de")]
    public void TryFromUrl_HttpUrl_YieldsItsHost(string url, string expected)
    {
        DomainName.TryFromUrl(url, out var domain).Should().BeTrue();
        domain.Should().Be(expected);
    }

    [TestCase("null")]
    [TestCase("shop.acme.com")]
    [TestCase("ftp://shop.acme.com")]
    [TestCase("chrome-extension://abcdef")]
    [TestCase("https://user:pass@shop.acme.com/")]
    [TestCase("https://shop.acme.com@evil.com/")]
    [TestCase("https://evil.com\\@shop.acme.com/")]
    [TestCase("https:///path")]
    [TestCase("https://%65vil.com/")]
    public void TryFromUrl_NotAnHttpUrlWithAValidHost_IsRefused(string url)
    {
        DomainName.TryFromUrl(url, out _).Should().BeFalse();
    }

    [TestCase("localhost", "localhost")]
    [TestCase("https://shop.acme.com/", "shop.acme.com")]
    [TestCase("shop.acme.com:443", "shop.acme.com")]
    public void TryFromSiteId_HostOrUrl_IsNormalised(string siteId, string expected)
    {
        DomainName.TryFromSiteId(siteId, out var domain).Should().BeTrue();
        domain.Should().Be(expected);
    }
}
