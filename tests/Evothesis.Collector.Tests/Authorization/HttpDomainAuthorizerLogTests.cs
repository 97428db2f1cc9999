using Evothesis.Collector.Tests.Support;
using Microsoft.Extensions.Logging;

namespace Evothesis.Collector.Tests.Authorization;

/// <summary>What an operator reads about pixel-management: one event id per kind of answer, naming what was asked.</summary>
[TestFixture]
[CancelAfter(60_000)]
public sealed class HttpDomainAuthorizerLogTests
{
    private FakePixelManagement _pm = null!;

    [SetUp]
    public async Task SetUp() => _pm = await FakePixelManagement.StartAsync();

    [TearDown]
    public async Task TearDown() => await _pm.DisposeAsync();

    [Test]
    public async Task Start_LogsWherePixelManagementIsAndHowLongAnswersAreCached()
    {
        await using var services = PixelManagementServices.Create(_pm.Url, o => o.NegativeCacheDuration = TimeSpan.FromSeconds(30));

        await services.AuthorizeAsync("unknown.example");

        var start = services.Logs.GetSnapshot().Should().ContainSingle(r => r.Id.Id == 1105).Subject;
        start.Level.Should().Be(LogLevel.Information);
        start.Message.Should().Contain(_pm.Url).And.Contain("00:05:00").And.Contain("00:00:30");
    }

    [Test]
    public async Task AuthorizeAsync_NotANormalisedDomain_LogsItsLengthButNotTheValue()
    {
        await using var services = PixelManagementServices.Create(_pm.Url);

        await services.AuthorizeAsync("Secret.Example:443");

        var record = services.Logs.GetSnapshot().Should().ContainSingle(r => r.Id.Id == 1113).Subject;
        record.Message.Should().Contain("(18 characters)").And.NotContainEquivalentOf("secret");
    }

    [Test]
    public async Task Lookups_AreLoggedByKindWithWhatWasAsked()
    {
        _pm.SetClient("shop.acme.com", "client_acme");
        _pm.SetClientDocument("client_beta", FakePixelManagement.Document("client_beta", "standard", "pm-salt-0a1b2c3d4e5f"));
        await using var services = PixelManagementServices.Create(_pm.Url);

        await services.AuthorizeAsync("shop.acme.com");
        await services.AuthorizeAsync("unknown.example");
        await services.FindClientAsync("client_beta");
        await services.FindClientAsync("client_unknown");

        var logs = services.Logs.GetSnapshot();
        Single(logs, 1106).Should().Contain("200").And.Contain("shop.acme.com");
        Single(logs, 1112).Should().Contain("unknown.example");
        Single(logs, 1115).Should().Contain("200").And.Contain("client_beta");
        Single(logs, 1116).Should().Contain("client_unknown");
        logs.Should().NotContain(r => r.Message.Contains("pm-salt-0a1b2c3d4e5f"));
    }

    private static string Single(IReadOnlyList<Microsoft.Extensions.Logging.Testing.FakeLogRecord> logs, int id)
    {
        var record = logs.Should().ContainSingle(r => r.Id.Id == id).Subject;
        record.Level.Should().Be(LogLevel.Debug);
        return record.Message;
    }
}
