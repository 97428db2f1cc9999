using Evothesis.Collector.Authorization;
using Evothesis.Collector.Authorization.Internal;
using Evothesis.Collector.Tests.Support;
using Microsoft.Extensions.Logging.Abstractions;

namespace Evothesis.Collector.Tests.Authorization;

public class ClientsFileDomainAuthorizerTests
{
    private TempDirectory _dir = null!;

    [SetUp]
    public void SetUp() => _dir = new TempDirectory();

    [TearDown]
    public void TearDown() => _dir.Dispose();

    [Test]
    public void Load_ValidFile_AuthorizesItsNormalisedDomains()
    {
        var clients = Load("""
            {
              // comments and trailing commas are allowed in the file
              "Shop.Acme.com.": {"client_id":"client_acme_corp","privacy_level":"gdpr",
                                 "ip_collection":{"enabled":true,"hash_required":true,"salt":"pepper"},
                                 "consent":{"required":true,"default_behavior":"block"}, "unknown": 1},
              "localhost": {"client_id":"client_test"},
            }
            """);

        var acme = clients["shop.acme.com"].Client!;
        acme.ClientId.Should().Be("client_acme_corp");
        acme.PrivacyLevel.Should().Be(PrivacyLevel.Gdpr);
        acme.IpCollection.Salt.Should().Be("pepper");
        acme.Consent.Required.Should().BeTrue();
        acme.Consent.DefaultBehavior.Should().Be(ConsentDefault.OptOut);
        acme.ToString().Should().NotContain("pepper");
        acme.IpCollection.ToString().Should().NotContain("pepper");
        clients["localhost"].Client!.PrivacyLevel.Should().Be(PrivacyLevel.Standard);
    }

    [Test]
    public void Load_MissingFile_AuthorizesNothing()
    {
        ClientsFileDomainAuthorizer.Load(Path.Combine(_dir.Path, "none.json"), NullLogger.Instance).Should().BeEmpty();
    }

    [TestCase("""{"localhost":{"privacy_level":"standard"}}""", "no client_id")]
    [TestCase("""{"localhost":{"client_id":"c","privacy_level":"paranoid"}}""", "paranoid")]
    [TestCase("""{"localhost":{"client_id":"c","consent":{"default_behavior":"maybe"}}}""", "maybe")]
    [TestCase("""{"not a domain":{"client_id":"c"}}""", "not a valid domain")]
    [TestCase("""{"localhost":null}""", "null")]
    [TestCase("""{"localhost":""", "not valid JSON")]
    public void Load_InvalidFile_StopsTheStartWithAClearMessage(string json, string expected)
    {
        var act = () => Load(json);

        act.Should().Throw<InvalidOperationException>().WithMessage($"*{expected}*");
    }

    [Test]
    public async Task AuthorizeAsync_UnknownDomain_IsUnauthorized()
    {
        var path = Path.Combine(_dir.Path, "clients.json");
        File.WriteAllText(path, """{"localhost":{"client_id":"client_test"}}""");
        var authorizer = new ClientsFileDomainAuthorizer(
            Microsoft.Extensions.Options.Options.Create(new CollectorOptions { Authorization = { ClientsFile = path } }),
            new CollectorPaths(),
            NullLogger<ClientsFileDomainAuthorizer>.Instance);

        (await authorizer.AuthorizeAsync("localhost", default)).Status.Should().Be(DomainAuthorizationStatus.Authorized);
        (await authorizer.AuthorizeAsync("evil.com", default)).Status.Should().Be(DomainAuthorizationStatus.Unauthorized);
    }

    private System.Collections.Frozen.FrozenDictionary<string, DomainAuthorization> Load(string json)
    {
        var path = Path.Combine(_dir.Path, "clients.json");
        File.WriteAllText(path, json);
        return ClientsFileDomainAuthorizer.Load(path, NullLogger.Instance);
    }
}
