using Evothesis.Collector.Authorization.Internal;

namespace Evothesis.Collector.Tests.Authorization;

[TestFixture]
public sealed class PixelManagementUriTests
{
    [TestCase("http://pixel-management:8001", "http://pixel-management:8001/")]
    [TestCase("https://pm.example/", "https://pm.example/")]
    [TestCase("https://pm.example/base", "https://pm.example/base/")]
    [TestCase("https://pm.example/base/", "https://pm.example/base/")]
    [TestCase("  http://pm.example:8001  ", "http://pm.example:8001/")]
    public void TryCreate_AbsoluteHttpUrl_IsTheBaseWithATrailingSlash(string value, string expected)
    {
        PixelManagementUri.TryCreate(value, out var baseUri, out var error).Should().BeTrue();
        baseUri!.ToString().Should().Be(expected);
        error.Should().BeNull();
    }

    [TestCase(null)]
    [TestCase("")]
    [TestCase("   ")]
    [TestCase("pixel-management:8001")]
    [TestCase("/api")]
    [TestCase("ftp://pm.example")]
    [TestCase("file:///etc/passwd")]
    [TestCase("http://user:secret@pm.example")]
    [TestCase("https://user@pm.example/base")]
    [TestCase("http://pm.example/?tenant=1")]
    [TestCase("http://pm.example/base#top")]
    public void TryCreate_AnythingElse_IsRefusedWithAReason(string? value)
    {
        PixelManagementUri.TryCreate(value, out var baseUri, out var error).Should().BeFalse();
        baseUri.Should().BeNull();
        error.Should().NotBeNullOrEmpty();
    }

    [Test]
    public void ForDomain_NormalisedDomain_IsOneSegmentBelowTheBase()
    {
        PixelManagementUri.TryCreate("https://pm.example/base", out var baseUri, out _).Should().BeTrue();

        PixelManagementUri.ForDomain(baseUri!, "shop.acme.com").ToString()
            .Should().Be("https://pm.example/base/api/v1/config/domain/shop.acme.com");
    }

    [TestCase("../admin")]
    [TestCase("Shop.Acme.com")]
    [TestCase("shop.acme.com/x")]
    public void ForDomain_NotNormalised_Throws(string domain)
    {
        var baseUri = new Uri("https://pm.example/");
        FluentActions.Invoking(() => PixelManagementUri.ForDomain(baseUri, domain)).Should().Throw<ArgumentException>();
    }

    [Test]
    public void ForClient_PlainId_IsOneSegmentBelowTheBase()
    {
        PixelManagementUri.TryCreate("http://pm.example:8001/base/", out var baseUri, out _).Should().BeTrue();

        PixelManagementUri.ForClient(baseUri!, "client_1.eu-west").ToString()
            .Should().Be("http://pm.example:8001/base/api/v1/config/client/client_1.eu-west");
    }

    [TestCase("..")]
    [TestCase("a/../../admin")]
    [TestCase("a%2F..")]
    [TestCase("")]
    public void ForClient_NotAPlainId_Throws(string clientId)
    {
        var baseUri = new Uri("https://pm.example/");
        FluentActions.Invoking(() => PixelManagementUri.ForClient(baseUri, clientId)).Should().Throw<ArgumentException>();
    }

    [Test]
    public void Redact_UrlWithCredentials_KeepsEverythingButThem()
    {
        var redacted = PixelManagementUri.Redact("http://user:secret@pm.example:8001/base/");

        redacted.Should().Be("http://pm.example:8001/base/");
    }

    [TestCase("http://pm.example:8001/base/")]
    [TestCase("http://PM.Example:8001/base")]
    [TestCase("not a url")]
    [TestCase("")]
    public void Redact_NothingToHide_ReturnsTheValueAsItIs(string value) =>
        PixelManagementUri.Redact(value).Should().Be(value);
}
