using System.Text.Json;
using Evothesis.Collector.Sample.Clients;
using Evothesis.Collector.Tests.Support;

namespace Evothesis.Collector.Tests.Sample;

/// <summary>In Production the sample refuses the demo clients file (its salts are published) and a missing clients source.</summary>
[TestFixture]
[CancelAfter(60_000)]
public sealed class DemoClientsCheckTests
{
    private const string OwnClients = """
        {
          "localhost": {
            "client_id": "client_own",
            "privacy_level": "gdpr",
            "ip_collection": { "enabled": true, "hash_required": true, "salt": "a-salt-of-our-own-8d2f" },
            "consent": { "required": false, "default_behavior": "opt_in" }
          }
        }
        """;

    private static readonly string DemoFile = Path.Combine(RepositoryRoot.Find(), "samples", "Evothesis.Collector.Sample", "clients.json");

    [Test]
    public async Task Start_InProductionWithTheDemoClientsFile_FailsSayingWhatToSet()
    {
        await using var host = new SampleHost(environment: "Production");

        var message = await StartFailureAsync(host);

        message.Should().Contain("demo file").And.Contain("Evothesis:Authorization:ClientsFile").And.Contain("PIXEL_MANAGEMENT_URL");
    }

    [Test]
    public async Task Start_InProductionWithACopyOfTheDemoFileUnderAnotherName_Fails()
    {
        using var folder = new TempDirectory();
        var copy = Path.Combine(folder.Path, "production-clients.json");
        File.Copy(DemoFile, copy);
        await using var host = new SampleHost(new Dictionary<string, string?> { ["Evothesis:Authorization:ClientsFile"] = copy }, environment: "Production");

        (await StartFailureAsync(host)).Should().Contain(copy).And.Contain("demo file");
    }

    [Test]
    public async Task Start_InProductionWithNoClientsSource_FailsSayingWhatToSet()
    {
        using var folder = new TempDirectory();
        var missing = Path.Combine(folder.Path, "nowhere.json");
        await using var host = new SampleHost(new Dictionary<string, string?> { ["Evothesis:Authorization:ClientsFile"] = missing }, environment: "Production");

        (await StartFailureAsync(host)).Should().Contain("No clients source").And.Contain("Evothesis:Authorization:ClientsFile").And.Contain("PIXEL_MANAGEMENT_URL");
    }

    [Test]
    public async Task Start_InProductionWithAClientsFileOfItsOwn_AcceptsEvents()
    {
        using var folder = new TempDirectory();
        var own = Path.Combine(folder.Path, "clients.json");
        await File.WriteAllTextAsync(own, OwnClients);
        await using var host = new SampleHost(new Dictionary<string, string?> { ["Evothesis:Authorization:ClientsFile"] = own }, environment: "Production");

        var response = await host.SendAsync("POST", "/collect", body: """{"eventType":"pageview","siteId":"localhost"}""");

        response.StatusCode.Should().Be(202, response.Body);
    }

    [Test]
    public async Task Start_InProductionWithPixelManagement_StartsWithoutAClientsFile()
    {
        await using var pm = await FakePixelManagement.StartAsync();
        pm.SetClient("shop.acme.com", "client_acme", "gdpr", "pm-salt-91ab");
        await using var host = new SampleHost(new Dictionary<string, string?> { ["PIXEL_MANAGEMENT_URL"] = pm.Url }, environment: "Production");

        var response = await host.SendAsync("POST", "/collect", body: """{"eventType":"pageview","siteId":"shop.acme.com"}""");

        response.StatusCode.Should().Be(202, response.Body);
    }

    [Test]
    public async Task Start_InDevelopmentWithTheDemoClientsFile_AcceptsEvents()
    {
        await using var host = new SampleHost();

        var response = await host.SendAsync("POST", "/collect", body: """{"eventType":"pageview","siteId":"localhost"}""");

        response.StatusCode.Should().Be(202, response.Body);
    }

    [Test]
    public void DemoSalts_AreEverySaltOfTheSamplesClientsFile()
    {
        using var document = JsonDocument.Parse(File.ReadAllText(DemoFile));
        var salts = document.RootElement.EnumerateObject()
            .Select(domain => domain.Value.TryGetProperty("ip_collection", out var ip) && ip.TryGetProperty("salt", out var salt) ? salt.GetString() : null)
            .OfType<string>()
            .ToHashSet();

        salts.Should().NotBeEmpty();
        DemoClientsCheck.DemoSalts.Should().BeEquivalentTo(salts, "the demo file is recognised by its salts");
        DemoClientsCheck.UsesDemoSalts(DemoFile).Should().BeTrue();
    }

    [Test]
    public void UsesDemoSalts_FileWithOwnSalts_IsFalse()
    {
        using var folder = new TempDirectory();
        var own = Path.Combine(folder.Path, "clients.json");
        File.WriteAllText(own, OwnClients);

        DemoClientsCheck.UsesDemoSalts(own).Should().BeFalse();
    }

    private static async Task<string> StartFailureAsync(SampleHost host)
    {
        var start = async () => await host.SendAsync("GET", "/health");
        return (await start.Should().ThrowAsync<InvalidOperationException>()).Which.Message;
    }
}
