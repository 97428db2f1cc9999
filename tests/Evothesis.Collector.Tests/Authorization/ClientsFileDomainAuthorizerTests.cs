using Evothesis.Collector.Authorization;
using Evothesis.Collector.Authorization.Internal;
using Evothesis.Collector.Tests.Support;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Time.Testing;

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
    [TestCase("null", "JSON null")]
    [TestCase("{\n  \"localhost\": {\"client_id\": \"c\"},\n  \"shop.example\": {\"client_id\": }\n}", "not valid JSON (line 3)")]
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
        using var authorizer = new ClientsFileDomainAuthorizer(
            Microsoft.Extensions.Options.Options.Create(new CollectorOptions { Authorization = { ClientsFile = path } }),
            new CollectorPaths(),
            TimeProvider.System,
            NullLogger<ClientsFileDomainAuthorizer>.Instance);

        (await authorizer.AuthorizeAsync("localhost", default)).Status.Should().Be(DomainAuthorizationStatus.Authorized);
        (await authorizer.AuthorizeAsync("evil.com", default)).Status.Should().Be(DomainAuthorizationStatus.Unauthorized);
    }

    [Test]
    public async Task ChangedFile_IsReadAgainAtTheNextCheck()
    {
        var (authorizer, time, _) = Watch("""{"localhost":{"client_id":"client_test"}}""");
        using var _ = authorizer;

        Rewrite("""{"localhost":{"client_id":"client_test"},"shop.example":{"client_id":"client_shop","privacy_level":"gdpr","ip_collection":{"enabled":false}}}""");
        (await authorizer.AuthorizeAsync("shop.example", default)).Status.Should().Be(DomainAuthorizationStatus.Unauthorized, "not checked yet");
        time.Advance(TimeSpan.FromSeconds(2));

        var shop = await authorizer.AuthorizeAsync("shop.example", default);
        shop.Status.Should().Be(DomainAuthorizationStatus.Authorized);
        shop.Client!.ClientId.Should().Be("client_shop");
        (await authorizer.FindClientAsync("client_shop", default))!.PrivacyLevel.Should().Be(PrivacyLevel.Gdpr);
        (await authorizer.AuthorizeAsync("localhost", default)).Status.Should().Be(DomainAuthorizationStatus.Authorized);
    }

    [Test]
    public async Task ChangedFileThatIsInvalid_IsRefusedAndThePreviousOneStaysInForce()
    {
        var (authorizer, time, logs) = Watch("""{"localhost":{"client_id":"client_test","ip_collection":{"enabled":true,"hash_required":true,"salt":"s3cret-salt"}}}""");
        using var _ = authorizer;

        Rewrite("""{"localhost":{"client_id":"client_test","privacy_level":"strictest","ip_collection":{"salt":"s3cret-salt"}},"new.example":{"client_id":"c"}}""");
        time.Advance(TimeSpan.FromSeconds(2));

        (await authorizer.AuthorizeAsync("localhost", default)).Client!.IpCollection.Salt.Should().Be("s3cret-salt");
        (await authorizer.AuthorizeAsync("new.example", default)).Status.Should().Be(DomainAuthorizationStatus.Unauthorized);
        var refused = logs.GetSnapshot().Should().ContainSingle(r => r.Id.Id == 1122).Subject;
        refused.Level.Should().Be(Microsoft.Extensions.Logging.LogLevel.Error);
        refused.Exception!.Message.Should().Contain("strictest");
        logs.GetSnapshot().Should().NotContain(r => r.Message.Contains("s3cret-salt") || (r.Exception != null && r.Exception.ToString().Contains("s3cret-salt")));

        // Fixed: read again.
        Rewrite("""{"localhost":{"client_id":"client_test"},"new.example":{"client_id":"c"}}""");
        time.Advance(TimeSpan.FromSeconds(2));
        (await authorizer.AuthorizeAsync("new.example", default)).Status.Should().Be(DomainAuthorizationStatus.Authorized);
    }

    [Test]
    public async Task RemovedFile_IsRefusedAndThePreviousOneStaysInForce()
    {
        var (authorizer, time, logs) = Watch("""{"localhost":{"client_id":"client_test"}}""");
        using var _ = authorizer;

        File.Delete(Path.Combine(_dir.Path, "clients.json"));
        time.Advance(TimeSpan.FromSeconds(2));

        (await authorizer.AuthorizeAsync("localhost", default)).Status.Should().Be(DomainAuthorizationStatus.Authorized);
        logs.GetSnapshot().Should().ContainSingle(r => r.Id.Id == 1122);
    }

    [Test]
    public async Task MountedVolume_ASymbolicLinkSwapFurtherUp_IsPickedUp()
    {
        // How a Kubernetes ConfigMap volume updates a file: clients.json -> ..data/clients.json never changes;
        // ..data is swapped to a new folder (in one rename there; here removed and created again).
        var root = _dir.Path;
        Directory.CreateDirectory(Path.Combine(root, "v1"));
        Directory.CreateDirectory(Path.Combine(root, "v2"));
        var v1 = Path.Combine(root, "v1", "clients.json");
        var v2 = Path.Combine(root, "v2", "clients.json");
        File.WriteAllText(v1, """{"localhost":{"client_id":"client_test"}}""");
        File.WriteAllText(v2, """{"shop.example":{"client_id":"client_shop"}}""");
        File.SetLastWriteTimeUtc(v2, File.GetLastWriteTimeUtc(v1).AddSeconds(1));
        Directory.CreateSymbolicLink(Path.Combine(root, "..data"), "v1");
        File.CreateSymbolicLink(Path.Combine(root, "clients.json"), Path.Combine("..data", "clients.json"));
        var time = new FakeTimeProvider();
        using var authorizer = new ClientsFileDomainAuthorizer(
            Microsoft.Extensions.Options.Options.Create(new CollectorOptions { Authorization = { ClientsFile = Path.Combine(root, "clients.json") } }),
            new CollectorPaths(),
            time,
            NullLogger<ClientsFileDomainAuthorizer>.Instance);
        (await authorizer.AuthorizeAsync("localhost", default)).Status.Should().Be(DomainAuthorizationStatus.Authorized);

        Directory.Delete(Path.Combine(root, "..data")); // the link, not v1
        Directory.CreateSymbolicLink(Path.Combine(root, "..data"), "v2");
        time.Advance(TimeSpan.FromSeconds(2));

        (await authorizer.AuthorizeAsync("shop.example", default)).Status.Should().Be(DomainAuthorizationStatus.Authorized);
        (await authorizer.AuthorizeAsync("localhost", default)).Status.Should().Be(DomainAuthorizationStatus.Unauthorized);
    }

    [Test]
    public async Task ChangedFileThatIsJsonNull_IsRefusedAndThePreviousOneStaysInForce()
    {
        var (authorizer, time, logs) = Watch("""{"localhost":{"client_id":"client_test"}}""");
        using var _ = authorizer;

        Rewrite("null");
        time.Advance(TimeSpan.FromSeconds(2));

        (await authorizer.AuthorizeAsync("localhost", default)).Status.Should().Be(DomainAuthorizationStatus.Authorized);
        logs.GetSnapshot().Should().ContainSingle(r => r.Id.Id == 1122).Which.Exception!.Message.Should().Contain("JSON null");
    }

    [Test]
    public void Start_LogsTheFileAndHowManyDomainsItAuthorizes()
    {
        var (authorizer, _, logs) = Watch("""{"localhost":{"client_id":"client_test"},"shop.example":{"client_id":"client_shop"}}""");
        using var _ = authorizer;

        var loaded = logs.GetSnapshot().Should().ContainSingle(r => r.Id.Id == 1101).Subject;
        loaded.Message.Should().Contain(Path.Combine(_dir.Path, "clients.json")).And.Contain("2");
    }

    [Test]
    public void Start_WithoutAFile_WarnsThatEveryDomainIsUnauthorized()
    {
        var path = Path.Combine(_dir.Path, "none.json");
        var logger = new FakeLogger<ClientsFileDomainAuthorizer>();

        using var authorizer = new ClientsFileDomainAuthorizer(
            Microsoft.Extensions.Options.Options.Create(new CollectorOptions { Authorization = { ClientsFile = path } }),
            new CollectorPaths(),
            new FakeTimeProvider(),
            logger);

        var missing = logger.Collector.GetSnapshot().Should().ContainSingle(r => r.Id.Id == 1100).Subject;
        missing.Level.Should().Be(Microsoft.Extensions.Logging.LogLevel.Warning);
        missing.Message.Should().Contain(path);
    }

    [Test]
    public async Task ReloadTurnedOff_KeepsTheFileReadAtStart()
    {
        var (authorizer, time, _) = Watch("""{"localhost":{"client_id":"client_test"}}""", reload: false);
        using var _ = authorizer;

        Rewrite("""{"shop.example":{"client_id":"client_shop"}}""");
        time.Advance(TimeSpan.FromSeconds(10));

        (await authorizer.AuthorizeAsync("shop.example", default)).Status.Should().Be(DomainAuthorizationStatus.Unauthorized);
        (await authorizer.AuthorizeAsync("localhost", default)).Status.Should().Be(DomainAuthorizationStatus.Authorized);
    }

    [Test]
    public async Task ChangedFile_WithTheSystemClock_IsPickedUp()
    {
        var path = Path.Combine(_dir.Path, "clients.json");
        File.WriteAllText(path, """{"localhost":{"client_id":"client_test"}}""");
        using var authorizer = new ClientsFileDomainAuthorizer(
            Microsoft.Extensions.Options.Options.Create(new CollectorOptions
            {
                Authorization = { ClientsFile = path, ClientsFileCheckInterval = TimeSpan.FromMilliseconds(50) },
            }),
            new CollectorPaths(),
            TimeProvider.System,
            NullLogger<ClientsFileDomainAuthorizer>.Instance);

        Rewrite("""{"shop.example":{"client_id":"client_shop"}}""");

        var deadline = DateTime.UtcNow.AddSeconds(10);
        while ((await authorizer.AuthorizeAsync("shop.example", default)).Status != DomainAuthorizationStatus.Authorized && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20);
        }

        (await authorizer.AuthorizeAsync("shop.example", default)).Status.Should().Be(DomainAuthorizationStatus.Authorized);
        (await authorizer.AuthorizeAsync("localhost", default)).Status.Should().Be(DomainAuthorizationStatus.Unauthorized);
    }

    private (ClientsFileDomainAuthorizer Authorizer, FakeTimeProvider Time, FakeLogCollector Logs) Watch(string json, bool reload = true)
    {
        var path = Path.Combine(_dir.Path, "clients.json");
        File.WriteAllText(path, json);
        var time = new FakeTimeProvider();
        var logger = new FakeLogger<ClientsFileDomainAuthorizer>();
        var authorizer = new ClientsFileDomainAuthorizer(
            Microsoft.Extensions.Options.Options.Create(new CollectorOptions { Authorization = { ClientsFile = path, ReloadClientsFileOnChange = reload } }),
            new CollectorPaths(),
            time,
            logger);
        return (authorizer, time, logger.Collector);
    }

    // A new last write time even on file systems with a coarse clock, so the change is always seen.
    private void Rewrite(string json)
    {
        var path = Path.Combine(_dir.Path, "clients.json");
        var before = File.GetLastWriteTimeUtc(path);
        File.WriteAllText(path, json);
        File.SetLastWriteTimeUtc(path, before.AddSeconds(1));
    }

    private System.Collections.Frozen.FrozenDictionary<string, DomainAuthorization> Load(string json)
    {
        var path = Path.Combine(_dir.Path, "clients.json");
        File.WriteAllText(path, json);
        return ClientsFileDomainAuthorizer.Load(path, NullLogger.Instance);
    }
}
