using System.Net;
using Evothesis.Collector.Authorization;
using Evothesis.Collector.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Evothesis.Collector.Tests.Authorization;

/// <summary>The budget of uncached lookups in the pixel-management authorizer; the cache's clock is fake and never moves unless told.</summary>
[TestFixture]
[CancelAfter(60_000)]
public sealed class HttpDomainAuthorizerLookupBudgetTests
{
    private static readonly IPAddress Attacker = IPAddress.Parse("198.51.100.66");
    private static readonly IPAddress Visitor = IPAddress.Parse("203.0.113.9");

    private FakePixelManagement _pm = null!;

    [SetUp]
    public async Task SetUp()
    {
        _pm = await FakePixelManagement.StartAsync();
        _pm.SetClient("shop.acme.com", "client_acme");
    }

    [TearDown]
    public async Task TearDown() => await _pm.DisposeAsync();

    [Test]
    public async Task AuthorizeAsync_UnknownDomainsBeyondTheAddresssBurst_AreThrottledWithoutAskingPixelManagement()
    {
        await using var services = Create(burst: 100, burstPerClient: 5);

        var results = await AuthorizeManyAsync(services, Attacker, 20);

        results.Take(5).Should().OnlyContain(r => r.Status == DomainAuthorizationStatus.Unauthorized);
        results.Skip(5).Should().OnlyContain(r => r.Status == DomainAuthorizationStatus.Throttled
            && r.ThrottledBy == LookupBudgetScope.ClientAddress
            && r.RetryAfter >= TimeSpan.FromSeconds(1));
        _pm.TotalCalls.Should().Be(5);
    }

    [Test]
    public async Task AuthorizeAsync_UnknownDomainsFromManyAddressesBeyondTheGlobalBurst_AreThrottledGlobally()
    {
        await using var services = Create(burst: 10, burstPerClient: 5);

        var results = new List<DomainAuthorization>();
        for (var i = 0; i < 30; i++)
        {
            results.Add(await Authorizer(services).AuthorizeAsync($"made-up-{i}.example", new IPAddress([10, 0, 0, (byte)i]), CancellationToken.None));
        }

        results.Take(10).Should().OnlyContain(r => r.Status == DomainAuthorizationStatus.Unauthorized);
        results.Skip(10).Should().OnlyContain(r => r.Status == DomainAuthorizationStatus.Throttled && r.ThrottledBy == LookupBudgetScope.Global);
        _pm.TotalCalls.Should().Be(10);
    }

    [Test]
    public async Task AuthorizeAsync_CachedDomainWhileTheBudgetIsSpent_IsAuthorizedAndSpendsNothing()
    {
        await using var services = Create(burst: 3, burstPerClient: 3);
        (await Authorizer(services).AuthorizeAsync("shop.acme.com", Visitor, CancellationToken.None)).Status.Should().Be(DomainAuthorizationStatus.Authorized);
        await AuthorizeManyAsync(services, Attacker, 10);

        for (var i = 0; i < 50; i++)
        {
            (await Authorizer(services).AuthorizeAsync("shop.acme.com", Attacker, CancellationToken.None)).Status
                .Should().Be(DomainAuthorizationStatus.Authorized);
        }

        _pm.CallsFor("shop.acme.com").Should().Be(1);
        _pm.TotalCalls.Should().Be(3, "the cached site's lookup and two made-up ones spent the burst of 3");
    }

    [Test]
    public async Task AuthorizeAsync_NegativeAnswerCached_IsAnsweredWithoutSpendingTheBudget()
    {
        await using var services = Create(burst: 2, burstPerClient: 2);
        (await Authorizer(services).AuthorizeAsync("made-up.example", Attacker, CancellationToken.None)).Status.Should().Be(DomainAuthorizationStatus.Unauthorized);

        for (var i = 0; i < 20; i++)
        {
            (await Authorizer(services).AuthorizeAsync("made-up.example", Attacker, CancellationToken.None)).Status
                .Should().Be(DomainAuthorizationStatus.Unauthorized);
        }

        (await Authorizer(services).AuthorizeAsync("other.example", Attacker, CancellationToken.None)).Status
            .Should().Be(DomainAuthorizationStatus.Unauthorized, "one lookup of the burst of two is left");
    }

    [Test]
    public async Task AuthorizeAsync_RequestsJoiningALookupInFlight_SpendOneLookupBetweenThem()
    {
        _pm.Mode = FakeMode.Slow;
        await using var services = Create(burst: 100, burstPerClient: 2);
        var authorizer = Authorizer(services);

        var waiting = Enumerable.Range(0, 50)
            .Select(_ => authorizer.AuthorizeAsync("shop.acme.com", Attacker, CancellationToken.None).AsTask())
            .ToArray();
        await _pm.FirstArrival;
        waiting.Should().OnlyContain(t => !t.IsCompleted, "every request joined the one lookup instead of being throttled");
        _pm.Release();
        var results = await Task.WhenAll(waiting);
        _pm.Mode = FakeMode.Normal;

        results.Should().OnlyContain(r => r.Status == DomainAuthorizationStatus.Authorized);
        (await authorizer.AuthorizeAsync("one-more.example", Attacker, CancellationToken.None)).Status
            .Should().Be(DomainAuthorizationStatus.Unauthorized, "the 50 requests spent one lookup of the burst of two");
        (await authorizer.AuthorizeAsync("and-another.example", Attacker, CancellationToken.None)).Status
            .Should().Be(DomainAuthorizationStatus.Throttled);
    }

    [Test]
    public async Task AuthorizeAsync_ExpiredConfigurationWhileTheBudgetIsSpent_IsRefreshedFromPixelManagement()
    {
        await using var services = Create(burst: 2, burstPerClient: 2);
        await Authorizer(services).AuthorizeAsync("shop.acme.com", Visitor, CancellationToken.None);
        await AuthorizeManyAsync(services, Visitor, 5);

        _pm.SetClient("shop.acme.com", "client_acme_v2");
        services.Time!.Advance(TimeSpan.FromMinutes(5));
        var refreshed = await Authorizer(services).AuthorizeAsync("shop.acme.com", Visitor, CancellationToken.None);

        refreshed.Client!.ClientId.Should().Be("client_acme_v2");
        _pm.CallsFor("shop.acme.com").Should().Be(2);
    }

    [Test]
    public async Task AuthorizeAsync_TimePasses_TheBudgetRefills()
    {
        await using var services = Create(burst: 2, burstPerClient: 2, perSecond: 1, perClientPerSecond: 1);
        await AuthorizeManyAsync(services, Attacker, 3);
        _pm.TotalCalls.Should().Be(2);

        services.Time!.Advance(TimeSpan.FromSeconds(1));

        (await Authorizer(services).AuthorizeAsync("later.example", Attacker, CancellationToken.None)).Status
            .Should().Be(DomainAuthorizationStatus.Unauthorized);
        _pm.TotalCalls.Should().Be(3);
    }

    [Test]
    public async Task AuthorizeAsync_WithoutAddress_IsBoundByTheGlobalBudget()
    {
        await using var services = Create(burst: 4, burstPerClient: 1);

        var results = new List<DomainAuthorization>();
        for (var i = 0; i < 6; i++)
        {
            results.Add(await services.AuthorizeAsync($"made-up-{i}.example"));
        }

        results.Select(r => r.Status).Should().Equal(
            DomainAuthorizationStatus.Unauthorized, DomainAuthorizationStatus.Unauthorized, DomainAuthorizationStatus.Unauthorized,
            DomainAuthorizationStatus.Unauthorized, DomainAuthorizationStatus.Throttled, DomainAuthorizationStatus.Throttled);
        results[^1].ThrottledBy.Should().Be(LookupBudgetScope.Global);
    }

    [Test]
    public async Task AuthorizeAsync_BudgetDisabled_AsksPixelManagementForEveryUnknownDomain()
    {
        await using var services = Create(burst: 1, burstPerClient: 1, enabled: false);

        var results = await AuthorizeManyAsync(services, Attacker, 10);

        results.Should().OnlyContain(r => r.Status == DomainAuthorizationStatus.Unauthorized);
        _pm.TotalCalls.Should().Be(10);
    }

    [Test]
    public async Task AuthorizeAsync_Throttled_CountedByReasonAndWarnedOncePerIntervalWithoutDomainsOrAddresses()
    {
        await using var services = Create(burst: 4, burstPerClient: 2);
        using var throttled = services.Collect<long>("evothesis.collector.authorization.lookups.throttled");

        await AuthorizeManyAsync(services, Attacker, 5);
        for (var i = 0; i < 6; i++)
        {
            await Authorizer(services).AuthorizeAsync($"spread-{i}.example", new IPAddress([10, 0, 0, (byte)i]), CancellationToken.None);
        }

        var measurements = throttled.GetMeasurementSnapshot();
        measurements.Count(m => (string?)m.Tags["reason"] == "client_budget").Should().Be(3);
        measurements.Count(m => (string?)m.Tags["reason"] == "global_budget").Should().Be(4);
        measurements.Should().OnlyContain(m => (string?)m.Tags["lookup"] == "domain" && m.Tags.Count == 2);

        var warnings = services.Logs.GetSnapshot().Where(r => r.Id.Id == 1123).ToList();
        warnings.Should().ContainSingle().Which.Level.Should().Be(LogLevel.Warning);
        services.Logs.GetSnapshot().Where(r => r.Id.Id is 1123 or 1124)
            .Should().OnlyContain(r => !r.Message.Contains(".example") && !r.Message.Contains("198.51.100") && !r.Message.Contains("10.0.0"));

        // The next warning comes only once the interval has passed, and tells how many were refused meanwhile.
        services.Time!.Advance(TimeSpan.FromSeconds(10));
        await Authorizer(services).AuthorizeAsync("after.example", Attacker, CancellationToken.None);
        var second = services.Logs.GetSnapshot().Where(r => r.Id.Id == 1123).Should().HaveCount(2).And.Subject.Last();
        second.Message.Should().Contain("4 refused by the global budget").And.Contain("3 by client addresses");

        // Between warnings, each refusal is logged at debug level only: 8 refusals, 2 warnings.
        services.Logs.GetSnapshot().Where(r => r.Id.Id == 1124).Should().HaveCount(6).And.OnlyContain(r => r.Level == LogLevel.Debug);
    }

    [Test]
    public async Task FindClientAsync_UnknownClientsBeyondTheGlobalBudget_AreUnavailableWithRetryAfter()
    {
        await using var services = Create(burst: 2, burstPerClient: 1);
        (await services.FindClientAsync("client_x1")).Should().BeNull();
        (await services.FindClientAsync("client_x2")).Should().BeNull();

        var act = async () => await services.FindClientAsync("client_x3");

        // The wait is the budget's own (the time to refill one lookup at this rate), not the default Retry-After.
        var throttledDomain = await Authorizer(services).AuthorizeAsync("made-up.example", CancellationToken.None);
        throttledDomain.Status.Should().Be(DomainAuthorizationStatus.Throttled);
        throttledDomain.RetryAfter.Should().BeGreaterThan(TimeSpan.FromSeconds(5));
        (await act.Should().ThrowAsync<ClientDirectoryUnavailableException>()).Which.RetryAfter.Should().Be(throttledDomain.RetryAfter);
        _pm.TotalCalls.Should().Be(2);
    }

    private static IDomainAuthorizer Authorizer(PixelManagementServices services) => services.Provider.GetRequiredService<IDomainAuthorizer>();

    private static async Task<List<DomainAuthorization>> AuthorizeManyAsync(PixelManagementServices services, IPAddress address, int count)
    {
        var results = new List<DomainAuthorization>();
        for (var i = 0; i < count; i++)
        {
            results.Add(await Authorizer(services).AuthorizeAsync($"made-up-{Guid.NewGuid():N}.example", address, CancellationToken.None));
        }

        return results;
    }

    // Rates so low that nothing refills unless a test moves the clock by more than a few seconds.
    private PixelManagementServices Create(
        int burst,
        int burstPerClient,
        double perSecond = 0.001,
        double perClientPerSecond = 0.001,
        bool enabled = true) =>
        PixelManagementServices.Create(_pm.Url, o =>
        {
            o.LookupBudget.Enabled = enabled;
            o.LookupBudget.Burst = burst;
            o.LookupBudget.BurstPerClient = burstPerClient;
            o.LookupBudget.PermitsPerSecond = perSecond;
            o.LookupBudget.PermitsPerSecondPerClient = perClientPerSecond;
        });
}
