using Evothesis.Collector.Authorization;
using Evothesis.Collector.Authorization.Internal;
using Evothesis.Collector.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Evothesis.Collector.Tests.Authorization;

/// <summary>
/// The pixel-management authorizer as the client directory: <c>GET /api/v1/config/client/{client_id}</c> behind the
/// authorization cache, against a real HTTP fake on loopback.
/// </summary>
[TestFixture]
[CancelAfter(60_000)]
public sealed class HttpDomainAuthorizerClientDirectoryTests
{
    private const string Salt = "pm-salt-c1d2e3f4a5b6";
    private FakePixelManagement _pm = null!;

    [SetUp]
    public async Task SetUp() => _pm = await FakePixelManagement.StartAsync();

    [TearDown]
    public async Task TearDown() => await _pm.DisposeAsync();

    [Test]
    public async Task FindClientAsync_KnownClient_ReturnsItsConfigurationFromTheClientEndpoint()
    {
        _pm.SetClientDocument("client_acme", FakePixelManagement.Document(
            "client_acme", "gdpr", Salt, hashRequired: true, consentRequired: true, defaultBehavior: "opt_out"));
        await using var services = PixelManagementServices.Create(_pm.Url);

        var client = await services.FindClientAsync("client_acme");

        client.Should().NotBeNull();
        client!.ClientId.Should().Be("client_acme");
        client.PrivacyLevel.Should().Be(PrivacyLevel.Gdpr);
        client.IpCollection.HashRequired.Should().BeTrue();
        client.IpCollection.Salt.Should().Be(Salt, "the collector's own callers may need it; publishing it is theirs to avoid");
        client.Consent.Required.Should().BeTrue();
        client.Consent.DefaultBehavior.Should().Be(ConsentDefault.OptOut);
        _pm.Targets.Should().Equal("/api/v1/config/client/client_acme");
        services.Logs.GetSnapshot().Should().NotContain(r => r.Message.Contains(Salt));
    }

    [Test]
    public async Task FindClientAsync_ClientPixelManagementDoesNotKnow_ReturnsNullAndRemembersItForTheNegativeTtl()
    {
        await using var services = PixelManagementServices.Create(_pm.Url);

        (await services.FindClientAsync("client_new")).Should().BeNull();
        _pm.CallsForClient("client_new").Should().Be(1);

        _pm.SetClientDocument("client_new", FakePixelManagement.Document("client_new"));
        services.Time!.Advance(TimeSpan.FromSeconds(59));
        (await services.FindClientAsync("client_new")).Should().BeNull();
        _pm.CallsForClient("client_new").Should().Be(1);

        services.Time.Advance(TimeSpan.FromSeconds(1));
        (await services.FindClientAsync("client_new"))!.ClientId.Should().Be("client_new");
        _pm.CallsForClient("client_new").Should().Be(2);
    }

    [Test]
    public async Task FindClientAsync_WithinPositiveTtl_AnswersFromCacheAndAfterwardsAsksAgain()
    {
        _pm.SetClientDocument("client_acme", FakePixelManagement.Document("client_acme", "standard"));
        await using var services = PixelManagementServices.Create(_pm.Url);
        using var lookups = services.Collect<long>("evothesis.collector.authorization.cache.lookups");

        await services.FindClientAsync("client_acme");
        _pm.SetClientDocument("client_acme", FakePixelManagement.Document("client_acme", "hipaa", Salt));
        services.Time!.Advance(TimeSpan.FromMinutes(5) - TimeSpan.FromSeconds(1));
        (await services.FindClientAsync("client_acme"))!.PrivacyLevel.Should().Be(PrivacyLevel.Standard);
        _pm.CallsForClient("client_acme").Should().Be(1);

        services.Time.Advance(TimeSpan.FromSeconds(1));
        (await services.FindClientAsync("client_acme"))!.PrivacyLevel.Should().Be(PrivacyLevel.Hipaa);
        _pm.CallsForClient("client_acme").Should().Be(2);
        lookups.GetMeasurementSnapshot().Select(m => ((string)m.Tags["lookup"]!, (string)m.Tags["result"]!)).Should()
            .Equal(("client", "miss"), ("client", "hit"), ("client", "miss"));
    }

    [Test]
    public async Task FindClientAsync_PixelManagementFailingWithNothingCached_ThrowsUnavailableWithRetryAfter()
    {
        _pm.SetClientDocument("client_acme", FakePixelManagement.Document("client_acme"));
        _pm.Mode = FakeMode.Failing;
        await using var services = PixelManagementServices.Create(_pm.Url);
        using var failures = services.Collect<long>("evothesis.collector.authorization.upstream.failures");

        var lookup = async () => await services.FindClientAsync("client_acme");

        var thrown = (await lookup.Should().ThrowAsync<ClientDirectoryUnavailableException>()).Which;
        thrown.RetryAfter.Should().Be(TimeSpan.FromSeconds(5));
        thrown.Message.Should().Contain("pixel-management");
        _pm.CallsForClient("client_acme").Should().Be(3, "the default is 2 retries after the first attempt");
        failures.GetMeasurementSnapshot().Should().ContainSingle()
            .Which.Tags.Should().Contain(new KeyValuePair<string, object?>("lookup", "client"))
            .And.Contain(new KeyValuePair<string, object?>("error.type", "500"));
        services.Logs.GetSnapshot().Should().Contain(r => r.Id.Id == 1118 && r.Message.Contains("pixel-management") && r.Message.Contains("client_acme"));
    }

    [Test]
    public async Task FindClientAsync_PixelManagementDownWithNothingCached_ThrowsUnavailable()
    {
        _pm.SetClientDocument("client_acme", FakePixelManagement.Document("client_acme"));
        await _pm.StopAsync();
        await using var services = PixelManagementServices.Create(_pm.Url);

        var lookup = async () => await services.FindClientAsync("client_acme");

        (await lookup.Should().ThrowAsync<ClientDirectoryUnavailableException>()).Which.RetryAfter.Should().Be(TimeSpan.FromSeconds(5));
    }

    [TestCase("not json")]
    [TestCase("null")]
    [TestCase("[1,2]")]
    public async Task FindClientAsync_UnreadableBody_ThrowsUnavailableRatherThanAnsweringNoSuchClient(string body)
    {
        _pm.SetClientDocument("client_acme", FakePixelManagement.Document("client_acme"));
        _pm.BodyOverride = body;
        await using var services = PixelManagementServices.Create(_pm.Url);

        var lookup = async () => await services.FindClientAsync("client_acme");

        await lookup.Should().ThrowAsync<ClientDirectoryUnavailableException>();
    }

    [Test]
    public async Task FindClientAsync_PixelManagementFailingAfterTtl_ServesStaleThenPicksUpTheFreshConfigurationAfterRecovery()
    {
        _pm.SetClientDocument("client_acme", FakePixelManagement.Document("client_acme", "gdpr", Salt));
        await using var services = PixelManagementServices.Create(_pm.Url);
        using var lookups = services.Collect<long>("evothesis.collector.authorization.cache.lookups");
        await services.FindClientAsync("client_acme");

        _pm.Mode = FakeMode.Failing;
        services.Time!.Advance(TimeSpan.FromMinutes(6));
        var stale = await services.FindClientAsync("client_acme");
        var callsAfterFailure = _pm.CallsForClient("client_acme");

        stale!.PrivacyLevel.Should().Be(PrivacyLevel.Gdpr);
        callsAfterFailure.Should().Be(4, "one lookup, then one lookup of three attempts that failed");

        // While failing, lookups are answered at once and the refresh waits for the retry interval.
        (await services.FindClientAsync("client_acme"))!.PrivacyLevel.Should().Be(PrivacyLevel.Gdpr);
        await services.WhenClientRefreshedAsync("client_acme");
        _pm.CallsForClient("client_acme").Should().Be(callsAfterFailure);

        // pixel-management is back with a changed configuration: the next lookup starts a background refresh.
        _pm.Mode = FakeMode.Normal;
        _pm.SetClientDocument("client_acme", FakePixelManagement.Document("client_acme", "hipaa", Salt));
        services.Time.Advance(HttpDomainAuthorizer.RefreshRetryInterval);
        (await services.FindClientAsync("client_acme"))!.PrivacyLevel.Should().Be(PrivacyLevel.Gdpr);
        await services.WhenClientRefreshedAsync("client_acme");

        (await services.FindClientAsync("client_acme"))!.PrivacyLevel.Should().Be(PrivacyLevel.Hipaa);
        lookups.GetMeasurementSnapshot().Select(m => (string)m.Tags["result"]!).Should().Equal("miss", "stale", "stale", "stale", "hit");
        var logs = services.Logs.GetSnapshot();
        logs.Should().Contain(r => r.Id.Id == 1119 && r.Message.Contains("pixel-management") && r.Message.Contains("client_acme"));
        logs.Should().Contain(r => r.Id.Id == 1111);
        logs.Should().NotContain(r => r.Message.Contains(Salt));
    }

    [Test]
    public async Task FindClientAsync_PixelManagementDownAfterTtl_ServesStale()
    {
        _pm.SetClientDocument("client_acme", FakePixelManagement.Document("client_acme", "gdpr", Salt));
        await using var services = PixelManagementServices.Create(_pm.Url);
        await services.FindClientAsync("client_acme");

        await _pm.StopAsync();
        services.Time!.Advance(TimeSpan.FromHours(23));

        (await services.FindClientAsync("client_acme"))!.ClientId.Should().Be("client_acme");
    }

    [Test]
    public async Task FindClientAsync_FailingBeyondTheStaleLimit_ThrowsUnavailable()
    {
        _pm.SetClientDocument("client_acme", FakePixelManagement.Document("client_acme"));
        await using var services = PixelManagementServices.Create(_pm.Url, o => o.StaleCacheLimit = TimeSpan.FromHours(1));
        await services.FindClientAsync("client_acme");

        _pm.Mode = FakeMode.Failing;
        services.Time!.Advance(TimeSpan.FromMinutes(59));
        (await services.FindClientAsync("client_acme")).Should().NotBeNull();

        services.Time.Advance(TimeSpan.FromMinutes(1));
        var lookup = async () => await services.FindClientAsync("client_acme");

        await lookup.Should().ThrowAsync<ClientDirectoryUnavailableException>();
        services.Logs.GetSnapshot().Should().Contain(r => r.Id.Id == 1120 && r.Level == LogLevel.Error && r.Message.Contains("client_acme"));
    }

    [Test]
    public async Task FindClientAsync_UnknownClientAfterNegativeTtlWhileFailing_ThrowsUnavailableRatherThanNull()
    {
        await using var services = PixelManagementServices.Create(_pm.Url);
        (await services.FindClientAsync("client_new")).Should().BeNull();

        _pm.Mode = FakeMode.Failing;
        services.Time!.Advance(TimeSpan.FromMinutes(2));
        var lookup = async () => await services.FindClientAsync("client_new");

        // The client may have been created meanwhile: "try again later", not "no such client".
        await lookup.Should().ThrowAsync<ClientDirectoryUnavailableException>();
    }

    [Test]
    public async Task FindClientAsync_200ConcurrentLookupsOfOneUncachedClient_MakeExactlyOneUpstreamCall()
    {
        _pm.SetClientDocument("client_acme", FakePixelManagement.Document("client_acme"));
        _pm.Mode = FakeMode.Slow;
        await using var services = PixelManagementServices.Create(_pm.Url, fakeTime: false);
        var directory = services.Provider.GetRequiredService<IClientDirectory>();

        // Each lookup has joined the single flight when FindClientAsync returns; the fake holds the one upstream call
        // until every lookup is waiting for it.
        var joined = 0;
        var lookups = Enumerable.Range(0, 200)
            .Select(_ => Task.Run(() =>
            {
                var pending = directory.FindClientAsync("client_acme", CancellationToken.None).AsTask();
                Interlocked.Increment(ref joined);
                return pending;
            }))
            .ToArray();
        await _pm.FirstArrival;
        while (Volatile.Read(ref joined) < 200)
        {
            await Task.Yield();
        }

        lookups.Should().OnlyContain(t => !t.IsCompleted);

        _pm.Release();
        var results = await Task.WhenAll(lookups);

        results.Should().OnlyContain(c => c != null && c.ClientId == "client_acme");
        _pm.CallsForClient("client_acme").Should().Be(1);
        _pm.TotalCalls.Should().Be(1);
    }

    [TestCase("..")]
    [TestCase(".")]
    [TestCase("../admin")]
    [TestCase("..%2Fadmin")]
    [TestCase("%2e%2e")]
    [TestCase("client_acme/../../domain/shop.acme.com")]
    [TestCase("client_acme%2F..%2F..%2Fdomain%2Fshop.acme.com")]
    [TestCase("client_acme?x=1")]
    [TestCase("client_acme#x")]
    [TestCase("client acme")]
    [TestCase(" client_acme")]
    [TestCase("client_acme\n")]
    [TestCase("client\\acme")]
    [TestCase("user@client_acme")]
    [TestCase("client:acme")]
    [TestCase(".client_acme")]
    [TestCase("-client_acme")]
    [TestCase("_client_acme")]
    [TestCase("clïent")]
    [TestCase("")]
    public async Task FindClientAsync_NotAPlainClientId_ReturnsNullWithoutAnyUpstreamCall(string clientId)
    {
        _pm.SetClientDocument("admin", FakePixelManagement.Document("admin"));
        _pm.SetClient("shop.acme.com", "client_acme");
        await using var services = PixelManagementServices.Create(_pm.Url);

        var client = await services.FindClientAsync(clientId);

        client.Should().BeNull();
        _pm.TotalCalls.Should().Be(0);
        services.Logs.GetSnapshot().Should().Contain(r => r.Id.Id == 1121);
    }

    [Test]
    public async Task FindClientAsync_IdLongerThan128Characters_ReturnsNullWithoutAnyUpstreamCall()
    {
        await using var services = PixelManagementServices.Create(_pm.Url);
        var longest = new string('a', 128);

        (await services.FindClientAsync(longest + "a")).Should().BeNull();
        _pm.TotalCalls.Should().Be(0);

        (await services.FindClientAsync(longest)).Should().BeNull();
        _pm.CallsForClient(longest).Should().Be(1, "128 characters is still a client id");
    }

    [TestCase("client.v2.")]
    [TestCase("a..b")]
    [TestCase("7-eleven_EU")]
    public async Task FindClientAsync_PlainIdWithDots_IsLookedUpAsExactlyOnePathSegment(string clientId)
    {
        _pm.SetClientDocument(clientId, FakePixelManagement.Document(clientId));
        await using var services = PixelManagementServices.Create(_pm.Url);

        (await services.FindClientAsync(clientId))!.ClientId.Should().Be(clientId);

        _pm.Targets.Should().Equal("/api/v1/config/client/" + clientId);
    }

    [TestCase("client_other")]
    [TestCase("Client_Acme")]
    [TestCase("client_acme2")]
    public async Task FindClientAsync_ConfigurationOfAnotherClient_IsRefusedAndLoggedWithoutTheSalt(string answered)
    {
        _pm.SetClientDocument("client_acme", FakePixelManagement.Document(answered, "gdpr", Salt, hashRequired: true));
        await using var services = PixelManagementServices.Create(_pm.Url);

        var client = await services.FindClientAsync("client_acme");

        client.Should().BeNull("a configuration is never served under another client's id");
        var warning = services.Logs.GetSnapshot().Should().ContainSingle(r => r.Id.Id == 1117).Subject;
        warning.Level.Should().Be(LogLevel.Warning);
        warning.Message.Should().Contain("pixel-management").And.Contain("client_acme").And.Contain(answered);
        services.Logs.GetSnapshot().Should().NotContain(r => r.Message.Contains(Salt));
    }

    [TestCase("""{"client_id":"client_acme","privacy_level":"paranoid","ip_collection":{"salt":"pm-salt-c1d2e3f4a5b6"}}""", "paranoid")]
    [TestCase("""{"privacy_level":"gdpr","ip_collection":{"salt":"pm-salt-c1d2e3f4a5b6"}}""", "client_id")]
    public async Task FindClientAsync_UnusableConfiguration_ReturnsNullAndIsLoggedWithoutTheSalt(string json, string named)
    {
        _pm.SetClientDocument("client_acme", json);
        await using var services = PixelManagementServices.Create(_pm.Url);

        (await services.FindClientAsync("client_acme")).Should().BeNull();

        services.Logs.GetSnapshot().Should().ContainSingle(r => r.Id.Id == 1117).Which.Message.Should().Contain(named);
        services.Logs.GetSnapshot().Should().NotContain(r => r.Message.Contains(Salt));
    }

    [Test]
    public async Task FindClientAsync_IdSpelledLikeACachedDomain_IsLookedUpOnItsOwn()
    {
        _pm.SetClient("shop.acme.com", "client_acme");
        await using var services = PixelManagementServices.Create(_pm.Url);
        (await services.AuthorizeAsync("shop.acme.com")).Status.Should().Be(DomainAuthorizationStatus.Authorized);

        var client = await services.FindClientAsync("shop.acme.com");

        client.Should().BeNull("no client has the id shop.acme.com, whichever domain the cache holds");
        _pm.CallsForClient("shop.acme.com").Should().Be(1);
        (await services.FindClientAsync("client_acme"))!.ClientId.Should().Be("client_acme");
        (await services.AuthorizeAsync("shop.acme.com")).Client!.ClientId.Should().Be("client_acme");
        _pm.CallsFor("shop.acme.com").Should().Be(1);
    }

    [Test]
    public async Task FindClientAsync_FloodOfDistinctIds_KeepsTheCacheBoundedAndConfigurationsCached()
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
        await services.FindClientAsync("client_acme");

        for (var i = 0; i < 1000; i++)
        {
            (await services.FindClientAsync($"made_up_{i}")).Should().BeNull();
            (services.Authorizer.CachedDomains + services.Authorizer.CachedClients).Should().BeLessThanOrEqualTo(100);
        }

        (await services.FindClientAsync("client_acme"))!.ClientId.Should().Be("client_acme");
        (await services.AuthorizeAsync("shop.acme.com")).Client!.ClientId.Should().Be("client_acme");
        _pm.CallsForClient("client_acme").Should().Be(1, "unknown ids are evicted before client configurations");
        _pm.CallsFor("shop.acme.com").Should().Be(1);
    }

    [Test]
    public async Task FindClientAsync_BaseUrlWithPath_LooksUpBelowIt()
    {
        await using var pm = await FakePixelManagement.StartAsync("/pixel-management");
        pm.SetClientDocument("client_acme", FakePixelManagement.Document("client_acme"));
        await using var services = PixelManagementServices.Create(pm.Url);

        (await services.FindClientAsync("client_acme"))!.ClientId.Should().Be("client_acme");

        pm.Targets.Should().Equal("/pixel-management/api/v1/config/client/client_acme");
    }

    [Test]
    public async Task FindClientAsync_CallerGivesUp_TheLookupStillFillsTheCache()
    {
        _pm.SetClientDocument("client_acme", FakePixelManagement.Document("client_acme"));
        _pm.Mode = FakeMode.Slow;
        await using var services = PixelManagementServices.Create(_pm.Url, fakeTime: false);
        var directory = services.Provider.GetRequiredService<IClientDirectory>();
        using var cancel = new CancellationTokenSource();

        var abandoned = directory.FindClientAsync("client_acme", cancel.Token).AsTask();
        await _pm.FirstArrival;
        await cancel.CancelAsync();
        await FluentActions.Awaiting(() => abandoned).Should().ThrowAsync<OperationCanceledException>();

        var inFlight = services.Authorizer.GetClientLookupInFlight("client_acme");
        _pm.Release();
        await inFlight!;
        (await services.FindClientAsync("client_acme"))!.ClientId.Should().Be("client_acme");
        _pm.CallsForClient("client_acme").Should().Be(1);
    }

    [Test]
    public async Task FindClientAsync_NullId_Throws()
    {
        await using var services = PixelManagementServices.Create(_pm.Url);

        var lookup = async () => await services.FindClientAsync(null!);

        await lookup.Should().ThrowAsync<ArgumentNullException>();
    }
}
