using Evothesis.Collector.Tests.Support;

namespace Evothesis.Collector.Tests.Sample;

/// <summary>
/// <c>/events/recent</c> shows every client's events: in Production it is mapped only with <c>Sample:AdminKey</c>,
/// and then answers only callers presenting it in <c>X-Admin-Key</c>.
/// </summary>
[TestFixture]
[CancelAfter(60_000)]
public sealed class RecentEventsGatingTests
{
    private const string AdminKey = "admin-key-for-tests-5e1f";
    private TempDirectory _folder = null!;
    private string _clientsFile = null!;

    [SetUp]
    public void SetUp()
    {
        _folder = new TempDirectory();
        _clientsFile = Path.Combine(_folder.Path, "clients.json");
        File.WriteAllText(_clientsFile, """
            {"localhost":{"client_id":"client_own","privacy_level":"standard","ip_collection":{"enabled":true,"hash_required":false},"consent":{"required":false,"default_behavior":"opt_in"}}}
            """);
    }

    [TearDown]
    public void TearDown() => _folder.Dispose();

    [Test]
    public async Task RecentEvents_InProductionWithoutAdminKey_IsNotMapped()
    {
        await using var host = Production(adminKey: null);

        var response = await host.SendAsync("GET", "/events/recent", headers: new Dictionary<string, string> { ["X-Admin-Key"] = AdminKey });

        response.StatusCode.Should().Be(404);
    }

    [Test]
    public async Task RecentEvents_InProductionWithAdminKey_AnswersOnlyCallersPresentingIt()
    {
        await using var host = Production(AdminKey);
        (await host.SendAsync("POST", "/collect", body: """{"eventType":"pageview","eventId":"gated-1","siteId":"localhost"}""")).StatusCode.Should().Be(202);

        var without = await host.SendAsync("GET", "/events/recent");
        var wrong = await host.SendAsync("GET", "/events/recent", headers: new Dictionary<string, string> { ["X-Admin-Key"] = AdminKey + "x" });
        var right = await host.SendAsync("GET", "/events/recent", headers: new Dictionary<string, string> { ["X-Admin-Key"] = AdminKey });

        without.StatusCode.Should().Be(401);
        without.Body.Should().NotContain("gated-1");
        wrong.StatusCode.Should().Be(401);
        wrong.Body.Should().NotContain("gated-1");
        right.StatusCode.Should().Be(200);
        right.Body.Should().Contain("gated-1");
    }

    private SampleHost Production(string? adminKey) => new(
        new Dictionary<string, string?>
        {
            ["Evothesis:Authorization:ClientsFile"] = _clientsFile,
            ["Sample:AdminKey"] = adminKey,
        },
        environment: "Production");
}
