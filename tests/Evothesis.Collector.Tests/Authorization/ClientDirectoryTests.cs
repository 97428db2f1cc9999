using Evothesis.Collector.Authorization;
using Evothesis.Collector.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace Evothesis.Collector.Tests.Authorization;

/// <summary>Looking clients up by id: the clients file as the default directory, and its registration.</summary>
public sealed class ClientDirectoryTests
{
    private TempDirectory _folder = null!;

    [SetUp]
    public void CreateFolder() => _folder = new TempDirectory();

    [TearDown]
    public void DeleteFolder() => _folder.Dispose();

    [Test]
    public async Task FindClientAsync_ClientOfTheClientsFile_ReturnsItsConfiguration()
    {
        using var services = Build(ClientsFile("""
            {
              "shop.example.com": { "client_id": "client_shop", "privacy_level": "gdpr",
                "ip_collection": { "enabled": true, "hash_required": true, "salt": "s3cret" },
                "consent": { "required": true, "default_behavior": "opt_out" } },
              "www.shop.example.com": { "client_id": "client_shop", "privacy_level": "gdpr",
                "ip_collection": { "enabled": true, "hash_required": true, "salt": "s3cret" },
                "consent": { "required": true, "default_behavior": "opt_out" } }
            }
            """));
        var directory = services.GetRequiredService<IClientDirectory>();

        var client = await directory.FindClientAsync("client_shop", CancellationToken.None);

        client.Should().NotBeNull();
        client!.ClientId.Should().Be("client_shop");
        client.PrivacyLevel.Should().Be(PrivacyLevel.Gdpr);
        client.Consent.Required.Should().BeTrue();
        client.Consent.DefaultBehavior.Should().Be(ConsentDefault.OptOut);
    }

    [TestCase("client_unknown")]
    [TestCase("CLIENT_SHOP")]
    [TestCase("")]
    public async Task FindClientAsync_IdNotInTheClientsFile_ReturnsNull(string clientId)
    {
        using var services = Build(ClientsFile("""{ "shop.example.com": { "client_id": "client_shop" } }"""));

        var client = await services.GetRequiredService<IClientDirectory>().FindClientAsync(clientId, CancellationToken.None);

        client.Should().BeNull();
    }

    [Test]
    public async Task FindClientAsync_ClientWhoseDomainsHaveDifferentLevels_ReturnsTheStrictest()
    {
        using var services = Build(ClientsFile("""
            {
              "a.example.com": { "client_id": "client_mixed", "privacy_level": "standard" },
              "b.example.com": { "client_id": "client_mixed", "privacy_level": "hipaa", "ip_collection": { "salt": "x" } },
              "c.example.com": { "client_id": "client_mixed", "privacy_level": "gdpr", "ip_collection": { "salt": "x" } }
            }
            """));

        var client = await services.GetRequiredService<IClientDirectory>().FindClientAsync("client_mixed", CancellationToken.None);

        client!.PrivacyLevel.Should().Be(PrivacyLevel.Hipaa);
    }

    [Test]
    public void AddEvothesisCollector_WithTheClientsFile_DirectoryAndAuthorizerAreOneInstance()
    {
        using var services = Build(ClientsFile("{}"));

        services.GetRequiredService<IClientDirectory>().Should().BeSameAs(services.GetRequiredService<IDomainAuthorizer>());
    }

    [Test]
    public async Task FindClientAsync_AuthorizerThatIsNoDirectory_FailsNamingTheMissingRegistration()
    {
        var collection = new ServiceCollection();
        collection.AddEvothesisCollector(o => o.Authorization.ClientsFile = Path.Combine(_folder.Path, "none.json"))
            .UseDomainAuthorizer<RefusingDomainAuthorizer>();
        using var services = collection.BuildServiceProvider();

        var lookup = async () => await services.GetRequiredService<IClientDirectory>().FindClientAsync("client_test", CancellationToken.None);

        (await lookup.Should().ThrowAsync<ClientDirectoryUnavailableException>())
            .WithMessage("*RefusingDomainAuthorizer*UseClientDirectory<T>()*");
    }

    [Test]
    public async Task UseClientDirectory_WithAnotherDirectory_ReplacesTheDefault()
    {
        var collection = new ServiceCollection();
        collection.AddEvothesisCollector(o => o.Authorization.ClientsFile = ClientsFile("""{ "a.example.com": { "client_id": "client_file" } }"""))
            .UseClientDirectory<SingleClientDirectory>();
        using var services = collection.BuildServiceProvider();
        var directory = services.GetRequiredService<IClientDirectory>();

        (await directory.FindClientAsync("client_single", CancellationToken.None)).Should().BeSameAs(SingleClientDirectory.Client);
        (await directory.FindClientAsync("client_file", CancellationToken.None)).Should().BeNull();
    }

    [Test]
    public async Task AddEvothesisCollector_WithPixelManagement_DirectoryIsTheAuthorizerAskingTheClientEndpoint()
    {
        await using var pm = await FakePixelManagement.StartAsync();
        pm.SetClient("shop.acme.com", "client_acme", "gdpr", "pm-salt-1");
        var collection = new ServiceCollection();
        collection.AddEvothesisCollector(o =>
        {
            o.Authorization.ClientsFile = ClientsFile("""{ "shop.acme.com": { "client_id": "client_file" } }""");
            o.Authorization.PixelManagementUrl = pm.Url;
        });
        await using var services = collection.BuildServiceProvider();
        var directory = services.GetRequiredService<IClientDirectory>();

        directory.Should().BeSameAs(services.GetRequiredService<IDomainAuthorizer>(), "one source and one cache for both");
        (await directory.FindClientAsync("client_acme", CancellationToken.None))!.PrivacyLevel.Should().Be(PrivacyLevel.Gdpr);
        (await directory.FindClientAsync("client_file", CancellationToken.None)).Should().BeNull("pixel-management replaces the clients file");
        pm.Targets.Should().Equal("/api/v1/config/client/client_acme", "/api/v1/config/client/client_file");
    }

    [Test]
    public async Task UseClientDirectory_WithPixelManagement_TheHostDirectoryWins()
    {
        await using var pm = await FakePixelManagement.StartAsync();
        pm.SetClient("shop.acme.com", "client_single");
        var collection = new ServiceCollection();
        collection.AddEvothesisCollector(o => o.Authorization.PixelManagementUrl = pm.Url)
            .UseClientDirectory<SingleClientDirectory>();
        await using var services = collection.BuildServiceProvider();

        var client = await services.GetRequiredService<IClientDirectory>().FindClientAsync("client_single", CancellationToken.None);

        client.Should().BeSameAs(SingleClientDirectory.Client);
        pm.TotalCalls.Should().Be(0);
    }

    [Test]
    public async Task AddEvothesisCollector_HostAuthorizerThatIsNoDirectoryWithPixelManagement_PixelManagementIsTheDirectory()
    {
        await using var pm = await FakePixelManagement.StartAsync();
        pm.SetClient("shop.acme.com", "client_acme");
        var collection = new ServiceCollection();
        collection.AddEvothesisCollector(o => o.Authorization.PixelManagementUrl = pm.Url)
            .UseDomainAuthorizer<RefusingDomainAuthorizer>();
        await using var services = collection.BuildServiceProvider();

        var client = await services.GetRequiredService<IClientDirectory>().FindClientAsync("client_acme", CancellationToken.None);

        client!.ClientId.Should().Be("client_acme");
        pm.Targets.Should().Equal("/api/v1/config/client/client_acme");
    }

    private string ClientsFile(string json)
    {
        var path = Path.Combine(_folder.Path, "clients.json");
        File.WriteAllText(path, json);
        return path;
    }

    private static ServiceProvider Build(string clientsFile)
    {
        var collection = new ServiceCollection();
        collection.AddEvothesisCollector(o => o.Authorization.ClientsFile = clientsFile);
        return collection.BuildServiceProvider();
    }
}
