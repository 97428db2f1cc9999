using Evothesis.Collector.Authorization;
using Evothesis.Collector.Authorization.Internal;
using Evothesis.Collector.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Evothesis.Collector.Tests.Authorization;

[TestFixture]
[CancelAfter(60_000)]
public sealed class HttpDomainAuthorizerTests
{
    private const string Salt = "pm-salt-5f0e1d2c3b4a";
    private FakePixelManagement _pm = null!;

    [SetUp]
    public async Task SetUp() => _pm = await FakePixelManagement.StartAsync();

    [TearDown]
    public async Task TearDown() => await _pm.DisposeAsync();

    [Test]
    public async Task AuthorizeAsync_KnownDomain_ReturnsConfigurationFromPixelManagement()
    {
        _pm.SetDocument("shop.acme.com", FakePixelManagement.Document(
            "client_acme", "gdpr", Salt, hashRequired: true, consentRequired: true, defaultBehavior: "block"));
        await using var services = PixelManagementServices.Create(_pm.Url);

        var result = await services.AuthorizeAsync("shop.acme.com");

        result.Status.Should().Be(DomainAuthorizationStatus.Authorized);
        var client = result.Client!;
        client.ClientId.Should().Be("client_acme");
        client.PrivacyLevel.Should().Be(PrivacyLevel.Gdpr);
        client.IpCollection.HashRequired.Should().BeTrue();
        client.IpCollection.Salt.Should().Be(Salt);
        client.Consent.Required.Should().BeTrue();
        client.Consent.DefaultBehavior.Should().Be(ConsentDefault.OptOut);
        _pm.Targets.Should().Equal("/api/v1/config/domain/shop.acme.com");
    }

    [Test]
    public async Task AuthorizeAsync_DomainPixelManagementDoesNotKnow_IsUnauthorized()
    {
        await using var services = PixelManagementServices.Create(_pm.Url);

        var result = await services.AuthorizeAsync("unknown.example");

        result.Status.Should().Be(DomainAuthorizationStatus.Unauthorized);
        _pm.CallsFor("unknown.example").Should().Be(1);
    }

    [TestCase("""{"privacy_level":"standard"}""", "client_id")]
    [TestCase("""{"client_id":"  ","privacy_level":"standard"}""", "client_id")]
    [TestCase("""{"client_id":"c1","privacy_level":"paranoid","ip_collection":{"salt":"pm-salt-5f0e1d2c3b4a"}}""", "paranoid")]
    [TestCase("""{"client_id":"c1","consent":{"default_behavior":"maybe"},"ip_collection":{"salt":"pm-salt-5f0e1d2c3b4a"}}""", "maybe")]
    public async Task AuthorizeAsync_UnusableConfiguration_IsUnauthorizedAndLoggedWithoutSalt(string json, string named)
    {
        _pm.SetDocument("bad.example", json);
        await using var services = PixelManagementServices.Create(_pm.Url);

        var result = await services.AuthorizeAsync("bad.example");

        result.Status.Should().Be(DomainAuthorizationStatus.Unauthorized);
        var warning = services.Logs.GetSnapshot().Should().ContainSingle(r => r.Id.Id == 1108).Subject;
        warning.Level.Should().Be(LogLevel.Warning);
        warning.Message.Should().Contain("pixel-management").And.Contain("bad.example").And.Contain(named);
        services.Logs.GetSnapshot().Should().NotContain(r => r.Message.Contains(Salt));
    }

    [TestCase("not json")]
    [TestCase("null")]
    [TestCase("[1,2]")]
    public async Task AuthorizeAsync_UnreadableBody_IsUnavailableNotUnauthorized(string body)
    {
        _pm.SetClient("shop.acme.com", "client_acme");
        _pm.BodyOverride = body;
        await using var services = PixelManagementServices.Create(_pm.Url);

        var result = await services.AuthorizeAsync("shop.acme.com");

        result.Status.Should().Be(DomainAuthorizationStatus.Unavailable);
    }

    [Test]
    public async Task AuthorizeAsync_BodyLargerThanAnyConfiguration_IsUnavailable()
    {
        _pm.SetClient("shop.acme.com", "client_acme");
        _pm.BodyOverride = "{\"client_id\":\"c1\",\"padding\":\"" + new string('x', PixelManagementClient.MaxResponseBytes) + "\"}";
        await using var services = PixelManagementServices.Create(_pm.Url);

        var result = await services.AuthorizeAsync("shop.acme.com");

        result.Status.Should().Be(DomainAuthorizationStatus.Unavailable);
    }

    [Test]
    public async Task AuthorizeAsync_UnknownDomainWhilePixelManagementFails_IsUnavailableWithRetryAfter()
    {
        _pm.Mode = FakeMode.Failing;
        await using var services = PixelManagementServices.Create(_pm.Url);

        var result = await services.AuthorizeAsync("shop.acme.com");

        result.Status.Should().Be(DomainAuthorizationStatus.Unavailable);
        result.RetryAfter.Should().Be(TimeSpan.FromSeconds(5));
        _pm.CallsFor("shop.acme.com").Should().Be(3, "the default is 2 retries after the first attempt");
        services.Logs.GetSnapshot().Should().Contain(r => r.Id.Id == 1107 && r.Message.Contains("pixel-management"));
    }

    [Test]
    public async Task AuthorizeAsync_UnknownDomainWhilePixelManagementIsDown_IsUnavailable()
    {
        _pm.SetClient("shop.acme.com", "client_acme");
        await _pm.StopAsync();
        await using var services = PixelManagementServices.Create(_pm.Url);

        var result = await services.AuthorizeAsync("shop.acme.com");

        result.Status.Should().Be(DomainAuthorizationStatus.Unavailable);
    }

    [Test]
    public async Task AuthorizeAsync_WithinPositiveTtl_AnswersFromCache()
    {
        _pm.SetClient("shop.acme.com", "client_acme");
        await using var services = PixelManagementServices.Create(_pm.Url);
        using var lookups = services.Collect<long>("evothesis.collector.authorization.cache.lookups");

        await services.AuthorizeAsync("shop.acme.com");
        services.Time!.Advance(TimeSpan.FromMinutes(5) - TimeSpan.FromSeconds(1));
        var cached = await services.AuthorizeAsync("shop.acme.com");

        cached.Client!.ClientId.Should().Be("client_acme");
        _pm.CallsFor("shop.acme.com").Should().Be(1);
        lookups.GetMeasurementSnapshot().Select(m => m.Tags["result"]).Should().Equal("miss", "hit");
    }

    [Test]
    public async Task AuthorizeAsync_AfterPositiveTtl_AsksPixelManagementAgainAndUsesTheNewConfiguration()
    {
        _pm.SetClient("shop.acme.com", "client_acme");
        await using var services = PixelManagementServices.Create(_pm.Url);
        await services.AuthorizeAsync("shop.acme.com");

        _pm.SetClient("shop.acme.com", "client_acme_v2");
        services.Time!.Advance(TimeSpan.FromMinutes(5));
        var refreshed = await services.AuthorizeAsync("shop.acme.com");

        refreshed.Client!.ClientId.Should().Be("client_acme_v2");
        _pm.CallsFor("shop.acme.com").Should().Be(2);
    }

    [Test]
    public async Task AuthorizeAsync_RevokedAfterTtl_IsUnauthorized()
    {
        _pm.SetClient("shop.acme.com", "client_acme");
        await using var services = PixelManagementServices.Create(_pm.Url);
        await services.AuthorizeAsync("shop.acme.com");

        _pm.Remove("shop.acme.com");
        services.Time!.Advance(TimeSpan.FromMinutes(6));

        (await services.AuthorizeAsync("shop.acme.com")).Status.Should().Be(DomainAuthorizationStatus.Unauthorized);
    }

    [Test]
    public async Task AuthorizeAsync_NegativeAnswer_IsRememberedForTheNegativeTtl()
    {
        await using var services = PixelManagementServices.Create(_pm.Url);
        (await services.AuthorizeAsync("new.example")).Status.Should().Be(DomainAuthorizationStatus.Unauthorized);

        _pm.SetClient("new.example", "client_new");
        services.Time!.Advance(TimeSpan.FromSeconds(59));
        (await services.AuthorizeAsync("new.example")).Status.Should().Be(DomainAuthorizationStatus.Unauthorized);
        _pm.CallsFor("new.example").Should().Be(1);

        services.Time.Advance(TimeSpan.FromSeconds(1));
        (await services.AuthorizeAsync("new.example")).Client!.ClientId.Should().Be("client_new");
        _pm.CallsFor("new.example").Should().Be(2);
    }

    [Test]
    public async Task AuthorizeAsync_CustomTtls_AreHonoured()
    {
        _pm.SetClient("shop.acme.com", "client_acme");
        await using var services = PixelManagementServices.Create(_pm.Url, o => o.PositiveCacheDuration = TimeSpan.FromSeconds(10));
        await services.AuthorizeAsync("shop.acme.com");

        services.Time!.Advance(TimeSpan.FromSeconds(9));
        await services.AuthorizeAsync("shop.acme.com");
        _pm.CallsFor("shop.acme.com").Should().Be(1);

        services.Time.Advance(TimeSpan.FromSeconds(1));
        await services.AuthorizeAsync("shop.acme.com");
        _pm.CallsFor("shop.acme.com").Should().Be(2);
    }

    [Test]
    public async Task AuthorizeAsync_200ConcurrentRequestsForOneUncachedDomain_MakeExactlyOneUpstreamCall()
    {
        _pm.SetClient("shop.acme.com", "client_acme");
        _pm.Mode = FakeMode.Slow;
        await using var services = PixelManagementServices.Create(_pm.Url, fakeTime: false);
        var authorizer = services.Provider.GetRequiredService<IDomainAuthorizer>();

        // Each request has joined the lookup when AuthorizeAsync returns; the fake holds the one upstream call
        // until every request is waiting for it.
        var joined = 0;
        var requests = Enumerable.Range(0, 200)
            .Select(_ => Task.Run(() =>
            {
                var pending = authorizer.AuthorizeAsync("shop.acme.com", CancellationToken.None).AsTask();
                Interlocked.Increment(ref joined);
                return pending;
            }))
            .ToArray();
        await _pm.FirstArrival;
        while (Volatile.Read(ref joined) < 200)
        {
            await Task.Yield();
        }

        requests.Should().OnlyContain(t => !t.IsCompleted);

        _pm.Release();
        var results = await Task.WhenAll(requests);

        results.Should().OnlyContain(r => r.Status == DomainAuthorizationStatus.Authorized && r.Client!.ClientId == "client_acme");
        _pm.CallsFor("shop.acme.com").Should().Be(1);
        _pm.TotalCalls.Should().Be(1);
    }

    [Test]
    public async Task AuthorizeAsync_ConcurrentRequestsForDistinctDomains_EachDomainAskedOnce()
    {
        for (var i = 0; i < 20; i++)
        {
            _pm.SetClient($"site{i}.example", $"client_{i}");
        }

        await using var services = PixelManagementServices.Create(_pm.Url, fakeTime: false);
        var authorizer = services.Provider.GetRequiredService<IDomainAuthorizer>();

        var results = await Task.WhenAll(Enumerable.Range(0, 400).Select(i =>
            Task.Run(async () => (i % 20, await authorizer.AuthorizeAsync($"site{i % 20}.example", CancellationToken.None)))));

        results.Should().OnlyContain(r => r.Item2.Client!.ClientId == $"client_{r.Item1}");
        Enumerable.Range(0, 20).Select(i => _pm.CallsFor($"site{i}.example")).Should().OnlyContain(n => n == 1);
    }

    [Test]
    public async Task AuthorizeAsync_PixelManagementFailingAfterTtl_ServesStaleThenPicksUpFreshConfigAfterRecovery()
    {
        _pm.SetClient("shop.acme.com", "client_acme");
        await using var services = PixelManagementServices.Create(_pm.Url);
        using var lookups = services.Collect<long>("evothesis.collector.authorization.cache.lookups");
        using var failures = services.Collect<long>("evothesis.collector.authorization.upstream.failures");
        await services.AuthorizeAsync("shop.acme.com");

        _pm.Mode = FakeMode.Failing;
        services.Time!.Advance(TimeSpan.FromMinutes(6));
        var stale = await services.AuthorizeAsync("shop.acme.com");
        var callsAfterFailure = _pm.CallsFor("shop.acme.com");

        stale.Status.Should().Be(DomainAuthorizationStatus.Authorized);
        stale.Client!.ClientId.Should().Be("client_acme");
        callsAfterFailure.Should().Be(4, "one lookup, then one lookup of three attempts that failed");

        // While failing, requests are served at once and the refresh waits for the retry interval.
        (await services.AuthorizeAsync("shop.acme.com")).Client!.ClientId.Should().Be("client_acme");
        await services.WhenRefreshedAsync("shop.acme.com");
        _pm.CallsFor("shop.acme.com").Should().Be(callsAfterFailure);

        // pixel-management is back with a changed configuration: the next request starts a background refresh.
        _pm.Mode = FakeMode.Normal;
        _pm.SetClient("shop.acme.com", "client_acme_v2");
        services.Time.Advance(HttpDomainAuthorizer.RefreshRetryInterval);
        (await services.AuthorizeAsync("shop.acme.com")).Client!.ClientId.Should().Be("client_acme");
        await services.WhenRefreshedAsync("shop.acme.com");

        (await services.AuthorizeAsync("shop.acme.com")).Client!.ClientId.Should().Be("client_acme_v2");
        lookups.GetMeasurementSnapshot().Select(m => (string)m.Tags["result"]!).Should().Equal("miss", "stale", "stale", "stale", "hit");
        failures.GetMeasurementSnapshot().Should().ContainSingle().Which.Tags["error.type"].Should().Be("500");
        var logs = services.Logs.GetSnapshot();
        logs.Should().Contain(r => r.Id.Id == 1109 && r.Message.Contains("pixel-management") && r.Message.Contains("client_acme"));
        logs.Should().Contain(r => r.Id.Id == 1111);
    }

    [Test]
    public async Task AuthorizeAsync_PixelManagementDownAfterTtl_ServesStaleThenRecovers()
    {
        _pm.SetClient("shop.acme.com", "client_acme", "gdpr", Salt);
        await using var services = PixelManagementServices.Create(_pm.Url);
        await services.AuthorizeAsync("shop.acme.com");

        await _pm.StopAsync();
        services.Time!.Advance(TimeSpan.FromHours(23));
        var stale = await services.AuthorizeAsync("shop.acme.com");
        stale.Client!.ClientId.Should().Be("client_acme");
        stale.Client.IpCollection.Salt.Should().Be(Salt);

        _pm.SetClient("shop.acme.com", "client_acme_v2");
        await _pm.RestartAsync();
        services.Time.Advance(HttpDomainAuthorizer.RefreshRetryInterval);
        await services.AuthorizeAsync("shop.acme.com");
        await services.WhenRefreshedAsync("shop.acme.com");

        (await services.AuthorizeAsync("shop.acme.com")).Client!.ClientId.Should().Be("client_acme_v2");
        services.Logs.GetSnapshot().Should().NotContain(r => r.Message.Contains(Salt));
    }

    [Test]
    public async Task AuthorizeAsync_FailingBeyondStaleLimit_IsUnavailable()
    {
        _pm.SetClient("shop.acme.com", "client_acme");
        await using var services = PixelManagementServices.Create(_pm.Url, o => o.StaleCacheLimit = TimeSpan.FromHours(1));
        await services.AuthorizeAsync("shop.acme.com");

        _pm.Mode = FakeMode.Failing;
        services.Time!.Advance(TimeSpan.FromMinutes(59));
        (await services.AuthorizeAsync("shop.acme.com")).Status.Should().Be(DomainAuthorizationStatus.Authorized);

        services.Time.Advance(TimeSpan.FromMinutes(1));
        var result = await services.AuthorizeAsync("shop.acme.com");

        result.Status.Should().Be(DomainAuthorizationStatus.Unavailable);
        services.Logs.GetSnapshot().Should().Contain(r => r.Id.Id == 1110 && r.Level == LogLevel.Error);
    }

    [Test]
    public async Task AuthorizeAsync_UnauthorizedDomainAfterNegativeTtlWhileFailing_IsUnavailableNotStale()
    {
        await using var services = PixelManagementServices.Create(_pm.Url);
        (await services.AuthorizeAsync("new.example")).Status.Should().Be(DomainAuthorizationStatus.Unauthorized);

        _pm.Mode = FakeMode.Failing;
        services.Time!.Advance(TimeSpan.FromMinutes(2));

        // The domain may have been onboarded meanwhile: the pixel keeps its events and retries.
        (await services.AuthorizeAsync("new.example")).Status.Should().Be(DomainAuthorizationStatus.Unavailable);
    }

    [Test]
    public async Task AuthorizeAsync_RepeatedFailures_OpenTheCircuitWhichAnswersWithoutCallingPixelManagement()
    {
        _pm.Mode = FakeMode.Failing;
        await using var services = PixelManagementServices.Create(_pm.Url);
        using var failures = services.Collect<long>("evothesis.collector.authorization.upstream.failures");
        for (var i = 0; i < 5; i++)
        {
            (await services.AuthorizeAsync($"d{i}.example")).Status.Should().Be(DomainAuthorizationStatus.Unavailable);
        }

        var calls = _pm.TotalCalls;
        for (var i = 5; i < 10; i++)
        {
            (await services.AuthorizeAsync($"d{i}.example")).Status.Should().Be(DomainAuthorizationStatus.Unavailable);
        }

        _pm.TotalCalls.Should().Be(calls);
        calls.Should().BeLessThan(15);
        failures.GetMeasurementSnapshot().Select(m => m.Tags["error.type"]).Should().Contain("circuit_open");
    }

    [Test]
    public async Task AuthorizeAsync_SlowPixelManagement_GivesUpWithinTheBudgetAfterRetrying()
    {
        _pm.SetClient("shop.acme.com", "client_acme");
        _pm.Mode = FakeMode.Slow;
        await using var services = PixelManagementServices.Create(
            _pm.Url,
            o =>
            {
                o.PixelManagementTimeout = TimeSpan.FromMilliseconds(600);
                o.PixelManagementAttemptTimeout = TimeSpan.FromMilliseconds(150);
            },
            fakeTime: false);

        var result = await services.AuthorizeAsync("shop.acme.com");

        result.Status.Should().Be(DomainAuthorizationStatus.Unavailable);
        _pm.CallsFor("shop.acme.com").Should().BeGreaterThanOrEqualTo(2, "a timed-out attempt is retried within the budget");
        services.Logs.GetSnapshot().Should().Contain(r => r.Id.Id == 1107 && r.Message.Contains("time budget"));
    }

    [Test]
    public async Task AuthorizeAsync_NoRetriesConfigured_MakesOneAttempt()
    {
        _pm.Mode = FakeMode.Failing;
        await using var services = PixelManagementServices.Create(_pm.Url, o => o.PixelManagementMaxRetries = 0);

        (await services.AuthorizeAsync("shop.acme.com")).Status.Should().Be(DomainAuthorizationStatus.Unavailable);

        _pm.CallsFor("shop.acme.com").Should().Be(1);
    }

    [TestCase("../admin")]
    [TestCase("..")]
    [TestCase("a/../../admin")]
    [TestCase("shop.acme.com/../../admin")]
    [TestCase("%2e%2e%2fadmin")]
    [TestCase("shop.acme.com%2F..%2Fadmin")]
    [TestCase("shop.acme.com?x=1")]
    [TestCase("shop.acme.com#x")]
    [TestCase("user@shop.acme.com")]
    [TestCase("Shop.Acme.com")]
    [TestCase("shop.acme.com.")]
    [TestCase("shop.acme.com:443")]
    [TestCase("bücher.de")]
    [TestCase("evil.com\\admin")]
    [TestCase("")]
    [TestCase(" ")]
    public async Task AuthorizeAsync_NotANormalisedDomain_IsUnauthorizedWithoutAnyUpstreamCall(string domain)
    {
        _pm.SetClient("admin", "client_admin");
        await using var services = PixelManagementServices.Create(_pm.Url);

        var result = await services.AuthorizeAsync(domain);

        result.Status.Should().Be(DomainAuthorizationStatus.Unauthorized);
        _pm.TotalCalls.Should().Be(0);
    }

    [Test]
    public async Task AuthorizeAsync_FloodOfDistinctDomains_KeepsTheCacheBoundedAndClientConfigurationsCached()
    {
        _pm.SetClient("shop.acme.com", "client_acme");

        // The cache's own bound, with the lookup budget (which would refuse most of the flood) out of the way.
        await using var services = PixelManagementServices.Create(
            _pm.Url,
            o =>
            {
                o.CacheSizeLimit = 100;
                o.LookupBudget.Enabled = false;
            },
            fakeTime: false);
        await services.AuthorizeAsync("shop.acme.com");

        for (var i = 0; i < 1000; i++)
        {
            (await services.AuthorizeAsync($"random-{i}.attacker.example")).Status.Should().Be(DomainAuthorizationStatus.Unauthorized);
            services.Authorizer.CachedDomains.Should().BeLessThanOrEqualTo(100);
        }

        (await services.AuthorizeAsync("shop.acme.com")).Client!.ClientId.Should().Be("client_acme");
        _pm.CallsFor("shop.acme.com").Should().Be(1, "refusals are evicted before client configurations");
        services.Authorizer.CachedConfigurations.Should().Be(1);
    }

    [Test]
    public async Task AuthorizeAsync_BaseUrlWithPath_LooksUpBelowIt()
    {
        await using var pm = await FakePixelManagement.StartAsync("/pixel-management");
        pm.SetClient("shop.acme.com", "client_acme");
        await using var services = PixelManagementServices.Create(pm.Url + "/");

        (await services.AuthorizeAsync("shop.acme.com")).Client!.ClientId.Should().Be("client_acme");

        pm.Targets.Should().Equal("/pixel-management/api/v1/config/domain/shop.acme.com");
    }

    [Test]
    public async Task AuthorizeAsync_HostConfiguresTheNamedClient_HeadersReachPixelManagement()
    {
        _pm.SetClient("shop.acme.com", "client_acme");
        await using var services = PixelManagementServices.Create(_pm.Url, configureServices: s => s
            .AddHttpClient(AuthorizationOptions.PixelManagementHttpClientName)
            .ConfigureHttpClient(c => c.DefaultRequestHeaders.Add("X-Api-Key", "k-123")));

        await services.AuthorizeAsync("shop.acme.com");

        _pm.LastHeaders!["X-Api-Key"].Should().Be("k-123");
        _pm.LastHeaders!["User-Agent"].Should().StartWith("Evothesis.Collector/");
        _pm.LastHeaders!["Accept"].Should().Be("application/json");
    }

    [Test]
    public async Task CacheSize_IsObservable()
    {
        _pm.SetClient("shop.acme.com", "client_acme");
        await using var services = PixelManagementServices.Create(_pm.Url);
        using var size = services.Collect<long>("evothesis.collector.authorization.cache.size");

        await services.AuthorizeAsync("shop.acme.com");
        await services.AuthorizeAsync("other.example");
        size.RecordObservableInstruments();

        size.LastMeasurement!.Value.Should().Be(2);
    }

    [Test]
    public async Task AuthorizeAsync_UpstreamLatency_IsRecordedByOutcome()
    {
        _pm.SetClient("shop.acme.com", "client_acme");
        await using var services = PixelManagementServices.Create(_pm.Url);
        using var duration = services.Collect<double>("evothesis.collector.authorization.upstream.duration");

        await services.AuthorizeAsync("shop.acme.com");
        await services.AuthorizeAsync("other.example");

        duration.GetMeasurementSnapshot().Select(m => m.Tags["outcome"]).Should().Equal("authorized", "not_found");
    }

    [Test]
    public async Task AuthorizeAsync_InvalidConfigurationAndFailure_AreRecordedByOutcome()
    {
        _pm.SetDocument("bad.example", """{"privacy_level":"standard"}""");
        await using var services = PixelManagementServices.Create(_pm.Url);
        using var duration = services.Collect<double>("evothesis.collector.authorization.upstream.duration");

        (await services.AuthorizeAsync("bad.example")).Status.Should().Be(DomainAuthorizationStatus.Unauthorized);
        _pm.Mode = FakeMode.Failing;
        (await services.AuthorizeAsync("shop.acme.com")).Status.Should().Be(DomainAuthorizationStatus.Unavailable);

        duration.GetMeasurementSnapshot().Select(m => m.Tags["outcome"]).Should().Equal("invalid", "failure");
    }
}
