using Evothesis.Collector.Authorization;
using Evothesis.Collector.Authorization.Internal;
using Evothesis.Collector.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace Evothesis.Collector.Tests.Authorization;

/// <summary>
/// What the authorizer remembers about pixel-management failing: which requests wait for a lookup and which are
/// answered at once from the cache, refreshes that cost no budget, and lookups that end when the collector stops.
/// </summary>
[TestFixture]
[CancelAfter(60_000)]
public sealed class HttpDomainAuthorizerOutageTests
{
    private FakePixelManagement _pm = null!;

    [SetUp]
    public async Task SetUp() => _pm = await FakePixelManagement.StartAsync();

    [TearDown]
    public async Task TearDown()
    {
        _pm.Release();
        await _pm.DisposeAsync();
    }

    [Test]
    public async Task AuthorizeAsync_AfterALookupFailed_OtherExpiredConfigurationsAreServedAtOnceForTheRetryInterval()
    {
        _pm.SetClient("a.example", "client_a");
        _pm.SetClient("b.example", "client_b");
        _pm.SetClient("c.example", "client_c");
        await using var services = PixelManagementServices.Create(_pm.Url);
        await AuthorizeAllAsync(services, "a.example", "b.example", "c.example");
        services.Time!.Advance(TimeSpan.FromMinutes(6));

        _pm.Mode = FakeMode.Failing;
        (await services.AuthorizeAsync("a.example")).Client!.ClientId.Should().Be("client_a");

        // pixel-management is known to fail: another expired configuration does not wait for a lookup of its own.
        _pm.Mode = FakeMode.Slow;
        var b = services.AuthorizeAsync("b.example");
        b.IsCompleted.Should().BeTrue("a lookup failed less than the retry interval ago");
        (await b).Client!.ClientId.Should().Be("client_b");

        // Once the retry interval has passed since the failure, expired configurations are looked up again first.
        services.Time.Advance(HttpDomainAuthorizer.RefreshRetryInterval);
        var c = services.AuthorizeAsync("c.example");
        c.IsCompleted.Should().BeFalse("the last failure is a retry interval old");
        _pm.Release();
        (await c).Client!.ClientId.Should().Be("client_c");
        await services.WhenRefreshedAsync("b.example");
    }

    [Test]
    public async Task AuthorizeAsync_PixelManagementAnswersAgain_ExpiredConfigurationsAreLookedUpAgainAtOnce()
    {
        _pm.SetClient("a.example", "client_a");
        _pm.SetClient("b.example", "client_b");
        await using var services = PixelManagementServices.Create(_pm.Url);
        await AuthorizeAllAsync(services, "a.example", "b.example");
        services.Time!.Advance(TimeSpan.FromMinutes(6));
        _pm.Mode = FakeMode.Failing;
        (await services.AuthorizeAsync("a.example")).Client!.ClientId.Should().Be("client_a");

        // Any answer, here about a domain pixel-management does not know, ends the failing state.
        _pm.Mode = FakeMode.Normal;
        (await services.AuthorizeAsync("new.example")).Status.Should().Be(DomainAuthorizationStatus.Unauthorized);

        _pm.Mode = FakeMode.Slow;
        var b = services.AuthorizeAsync("b.example");
        b.IsCompleted.Should().BeFalse("pixel-management answers again: an expired configuration is confirmed before it is used");
        _pm.Release();
        (await b).Client!.ClientId.Should().Be("client_b");
        services.Logs.GetSnapshot().Where(r => r.Id.Id == 1111).Should().ContainSingle("the recovery is logged once");
    }

    [Test]
    public async Task AuthorizeAsync_NoFailure_NeverLogsARecovery()
    {
        _pm.SetClient("a.example", "client_a");
        await using var services = PixelManagementServices.Create(_pm.Url);

        await AuthorizeAllAsync(services, "a.example", "unknown.example");
        services.Time!.Advance(TimeSpan.FromMinutes(6));
        await AuthorizeAllAsync(services, "a.example");

        _pm.TotalCalls.Should().Be(3);
        services.Logs.GetSnapshot().Should().NotContain(r => r.Id.Id == 1111);
    }

    [Test]
    public async Task AuthorizeAsync_StaleConfigurationWhileTheBudgetIsSpent_IsRefreshedInTheBackground()
    {
        _pm.SetClient("a.example", "client_a");
        await using var services = PixelManagementServices.Create(_pm.Url, o =>
        {
            o.LookupBudget.Burst = 1;
            o.LookupBudget.BurstPerClient = 1;
            o.LookupBudget.PermitsPerSecond = 0.001;
            o.LookupBudget.PermitsPerSecondPerClient = 0.001;
        });
        await services.AuthorizeAsync("a.example");
        (await services.AuthorizeAsync("spent.example")).Status.Should().Be(DomainAuthorizationStatus.Throttled);

        services.Time!.Advance(TimeSpan.FromMinutes(6));
        _pm.Mode = FakeMode.Failing;
        (await services.AuthorizeAsync("a.example")).Client!.ClientId.Should().Be("client_a");

        // Served stale while failing; the refresh behind it is not refused by the budget a flood may have spent.
        _pm.Mode = FakeMode.Normal;
        _pm.SetClient("a.example", "client_a_v2");
        services.Time.Advance(HttpDomainAuthorizer.RefreshRetryInterval);
        (await services.AuthorizeAsync("a.example")).Client!.ClientId.Should().Be("client_a");
        await services.WhenRefreshedAsync("a.example");

        (await services.AuthorizeAsync("a.example")).Client!.ClientId.Should().Be("client_a_v2");
    }

    [Test]
    public async Task AuthorizeAsync_UnusableConfiguration_IsRememberedForTheNegativeTtl()
    {
        _pm.SetDocument("bad.example", """{"privacy_level":"standard"}""");
        await using var services = PixelManagementServices.Create(_pm.Url);

        await services.AuthorizeAsync("bad.example");
        services.Time!.Advance(TimeSpan.FromMinutes(1) - TimeSpan.FromSeconds(1));
        (await services.AuthorizeAsync("bad.example")).Status.Should().Be(DomainAuthorizationStatus.Unauthorized);
        _pm.CallsFor("bad.example").Should().Be(1);

        services.Time.Advance(TimeSpan.FromSeconds(1));
        (await services.AuthorizeAsync("bad.example")).Status.Should().Be(DomainAuthorizationStatus.Unauthorized);
        _pm.CallsFor("bad.example").Should().Be(2);
    }

    [Test]
    public async Task AuthorizeAsync_UnknownDomainWhileFailing_IsCountedAsAMiss()
    {
        _pm.Mode = FakeMode.Failing;
        await using var services = PixelManagementServices.Create(_pm.Url);
        using var lookups = services.Collect<long>("evothesis.collector.authorization.cache.lookups");

        (await services.AuthorizeAsync("shop.acme.com")).Status.Should().Be(DomainAuthorizationStatus.Unavailable);

        lookups.GetMeasurementSnapshot().Select(m => (string?)m.Tags["result"]).Should().Equal("miss");
    }

    [Test]
    public async Task Dispose_LookupInFlight_IsAnsweredUnavailableWithoutWaitingForPixelManagement()
    {
        _pm.Mode = FakeMode.Slow;
        await using var services = PixelManagementServices.Create(_pm.Url, o =>
        {
            // Long enough that only the authorizer's own cancellation can end the lookup within the test.
            o.PixelManagementTimeout = TimeSpan.FromMinutes(1);
            o.PixelManagementAttemptTimeout = TimeSpan.FromSeconds(50);
        });
        var pending = services.AuthorizeAsync("shop.acme.com").AsTask();
        await _pm.FirstArrival;

        services.Authorizer.Dispose();

        (await pending.WaitAsync(TimeSpan.FromSeconds(20))).Status.Should().Be(DomainAuthorizationStatus.Unavailable);
    }

    [Test]
    public async Task AuthorizeAsync_HostHandlerThrowsUnexpectedly_IsUnavailableAndLoggedWithTheExceptionType()
    {
        _pm.SetClient("shop.acme.com", "client_acme");
        await using var services = PixelManagementServices.Create(_pm.Url, configureServices: s => s
            .AddHttpClient(AuthorizationOptions.PixelManagementHttpClientName)
            .AddHttpMessageHandler(() => new ThrowingHandler()));

        var result = await services.AuthorizeAsync("shop.acme.com");

        result.Status.Should().Be(DomainAuthorizationStatus.Unavailable);
        services.Logs.GetSnapshot().Should().Contain(r => r.Id.Id == 1107 && r.Message.Contains(nameof(InvalidOperationException)));
        services.Authorizer.GetLookupInFlight("shop.acme.com").Should().BeNull("the lookup ended and left the single flight");
    }

    [Test]
    public async Task ProbeAsync_HostHandlerThrowsUnexpectedly_IsAFailureNamedUnexpected()
    {
        await using var services = PixelManagementServices.Create(_pm.Url, configureServices: s => s
            .AddHttpClient(AuthorizationOptions.PixelManagementHttpClientName)
            .AddHttpMessageHandler(() => new ThrowingHandler()));
        using var failures = services.Collect<long>("evothesis.collector.authorization.upstream.failures");

        var answer = await services.Authorizer.ProbeAsync(CancellationToken.None);

        answer.Outcome.Should().Be(LookupOutcome.Failed);
        answer.ErrorType.Should().Be("unexpected");
        answer.Detail.Should().Be(nameof(InvalidOperationException));
        failures.GetMeasurementSnapshot().Should().ContainSingle().Which.Tags["error.type"].Should().Be("unexpected");
    }

    [Test]
    public async Task ProbeAsync_CallerCancels_Throws()
    {
        _pm.Mode = FakeMode.Slow;
        await using var services = PixelManagementServices.Create(_pm.Url);
        using var cancellation = new CancellationTokenSource();

        var probe = services.Authorizer.ProbeAsync(cancellation.Token);
        await _pm.FirstArrival;
        await cancellation.CancelAsync();

        await FluentActions.Awaiting(() => probe).Should().ThrowAsync<OperationCanceledException>();
    }

    private static async Task AuthorizeAllAsync(PixelManagementServices services, params string[] domains)
    {
        foreach (var domain in domains)
        {
            await services.AuthorizeAsync(domain);
        }
    }

    private sealed class ThrowingHandler : DelegatingHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
            throw new InvalidOperationException("a handler of the host's failed");
    }
}
