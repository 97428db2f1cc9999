using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Evothesis.Collector.Authorization;
using Evothesis.Collector.Authorization.Internal;
using Evothesis.Collector.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Http.Resilience;
using Microsoft.Extensions.Time.Testing;

namespace Evothesis.Collector.Tests.Sample;

[TestFixture]
[CancelAfter(60_000)]
public sealed class SampleHostPixelManagementTests
{
    private static readonly IPAddress Visitor = IPAddress.Parse("203.0.113.9");
    private FakePixelManagement _pm = null!;

    [SetUp]
    public async Task SetUp()
    {
        _pm = await FakePixelManagement.StartAsync();
        _pm.SetClient("shop.acme.com", "client_acme", "gdpr", "pm-salt-91ab");
    }

    [TearDown]
    public async Task TearDown() => await _pm.DisposeAsync();

    [Test]
    public async Task Collect_WithPixelManagementUrl_AttributesEventsToItsClientInsteadOfTheClientsFile()
    {
        await using var host = SampleHostFactory.WithPixelManagement(_pm.Url);
        using var client = host.CreateClient();

        using var fromOrigin = await PostAsync(client, "https://shop.acme.com", """{"eventType":"pageview","eventId":"e1","sessionId":"s1"}""");
        using var fromSiteId = await PostAsync(client, null, """{"eventType":"click","eventId":"e2","siteId":"shop.acme.com"}""");
        using var fromClientsFile = await PostAsync(client, "http://localhost:8000", """{"eventType":"pageview"}""");

        fromOrigin.StatusCode.Should().Be(HttpStatusCode.Accepted);
        fromSiteId.StatusCode.Should().Be(HttpStatusCode.Accepted);
        fromClientsFile.StatusCode.Should().Be(HttpStatusCode.Forbidden, "localhost is only in clients.json, which pixel-management replaces");
        var events = await RecentAsync(client);
        events.Select(e => e.GetProperty("eventId").GetString()).Should().BeEquivalentTo(["e1", "e2"]);
        events.Should().OnlyContain(e => e.GetProperty("client_id").GetString() == "client_acme" && e.GetProperty("siteId").GetString() == "shop.acme.com");
        _pm.CallsFor("shop.acme.com").Should().Be(1);
    }

    [Test]
    public async Task Collect_PixelManagementOutage_KnownDomainsKeepWorkingUnknownOnesAreAskedToRetry()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var host = WithCacheClock(time);
        using var client = host.CreateClient();
        (await PostAsync(client, "https://shop.acme.com", """{"eventType":"pageview","eventId":"before"}""")).StatusCode.Should().Be(HttpStatusCode.Accepted);

        await _pm.StopAsync();
        time.Advance(TimeSpan.FromMinutes(30));
        using var known = await PostAsync(client, "https://shop.acme.com", """{"eventType":"pageview","eventId":"during"}""");
        using var unknown = await PostAsync(client, "https://new-client.example", """{"eventType":"pageview","eventId":"lost?"}""");
        using var health = await client.GetAsync("/health");

        known.StatusCode.Should().Be(HttpStatusCode.Accepted);
        unknown.StatusCode.Should().Be(HttpStatusCode.ServiceUnavailable);
        unknown.Headers.RetryAfter.Should().NotBeNull();
        health.StatusCode.Should().Be(HttpStatusCode.OK);
        (await health.Content.ReadAsStringAsync()).Should().Be("Degraded");

        // pixel-management is back, and has moved the domain to another client: new events follow it.
        _pm.SetClient("shop.acme.com", "client_acme_eu", "gdpr", "pm-salt-91ab");
        await _pm.RestartAsync();
        time.Advance(HttpDomainAuthorizer.RefreshRetryInterval);
        (await PostAsync(client, "https://shop.acme.com", """{"eventType":"pageview","eventId":"refreshing"}""")).StatusCode.Should().Be(HttpStatusCode.Accepted);
        var authorizer = host.Services.GetRequiredService<HttpDomainAuthorizer>();
        await (authorizer.GetLookupInFlight("shop.acme.com") ?? Task.CompletedTask);
        (await PostAsync(client, "https://shop.acme.com", """{"eventType":"pageview","eventId":"after"}""")).StatusCode.Should().Be(HttpStatusCode.Accepted);

        var events = (await RecentAsync(client)).ToDictionary(e => e.GetProperty("eventId").GetString()!, e => e.GetProperty("client_id").GetString());
        events.Should().Equal(new Dictionary<string, string?>
        {
            ["before"] = "client_acme",
            ["during"] = "client_acme",
            ["refreshing"] = "client_acme",
            ["after"] = "client_acme_eu",
        });
    }

    [Test]
    public async Task Collect_RequireOriginOn_RefusesRequestsThatNameTheirSiteOnlyInTheBody()
    {
        await using var host = SampleHostFactory.WithPixelManagement(_pm.Url, new() { ["Evothesis:Authorization:RequireOrigin"] = "true" });
        using var client = host.CreateClient();

        using var bodyOnly = await PostAsync(client, null, """{"eventType":"pageview","siteId":"shop.acme.com"}""");
        using var withOrigin = await PostAsync(client, "https://shop.acme.com", """{"eventType":"pageview"}""");
        using var withReferer = await PostAsync(client, null, """{"eventType":"pageview"}""", referer: "https://shop.acme.com/cart");

        bodyOnly.StatusCode.Should().Be(HttpStatusCode.Forbidden);
        (await bodyOnly.Content.ReadAsStringAsync()).Should().Contain("Origin or Referer");
        withOrigin.StatusCode.Should().Be(HttpStatusCode.Accepted);
        withReferer.StatusCode.Should().Be(HttpStatusCode.Accepted);
        _pm.CallsFor("shop.acme.com").Should().Be(1);
    }

    [Test]
    public async Task Collect_RequireOriginOff_AcceptsServerToServerSenders()
    {
        await using var host = SampleHostFactory.WithPixelManagement(_pm.Url);
        using var client = host.CreateClient();

        using var response = await PostAsync(client, null, """{"eventType":"pageview","siteId":"shop.acme.com"}""");

        response.StatusCode.Should().Be(HttpStatusCode.Accepted);
    }

    [Test]
    public async Task Collect_WithoutPixelManagementUrl_UsesTheSampleClientsFile()
    {
        await using var host = new SampleHostFactory();
        using var client = host.CreateClient();

        using var response = await PostAsync(client, "http://localhost:8000", """{"eventType":"pageview"}""");

        response.StatusCode.Should().Be(HttpStatusCode.Accepted);
        _pm.TotalCalls.Should().Be(0);
    }

    [Test]
    public async Task Pixel_WithPixelManagementUrl_ServesTheScriptWithTheClientsConfigurationAndNeverTheSalt()
    {
        await using var host = SampleHostFactory.WithPixelManagement(_pm.Url);
        using var client = host.CreateClient();

        using var response = await client.GetAsync(new Uri("/pixel/client_acme/tracking.js", UriKind.Relative));
        var script = await response.Content.ReadAsStringAsync();
        using var again = await client.GetAsync(new Uri("/pixel/client_acme/tracking.js", UriKind.Relative));

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        response.Content.Headers.ContentType!.ToString().Should().Be("text/javascript; charset=utf-8");
        using var config = PixelScripts.EmbeddedConfig(script);
        config.RootElement.GetProperty("client_id").GetString().Should().Be("client_acme");
        config.RootElement.GetProperty("privacy_mode").GetString().Should().Be("gdpr");
        script.Should().NotContain("pm-salt-91ab").And.NotContain("salt\"");
        again.StatusCode.Should().Be(HttpStatusCode.OK);
        _pm.Targets.Should().Equal(["/api/v1/config/client/client_acme"], "the second request is answered from the cache");
    }

    [Test]
    public async Task Pixel_ClientOnlyInTheClientsFile_Returns404()
    {
        await using var host = SampleHostFactory.WithPixelManagement(_pm.Url);
        using var client = host.CreateClient();

        using var response = await client.GetAsync(new Uri("/pixel/client_test/tracking.js", UriKind.Relative));

        response.StatusCode.Should().Be(HttpStatusCode.NotFound, "pixel-management does not know client_test, which only clients.json has");
        (await response.Content.ReadAsStringAsync()).Should().NotContain("Analytics pixel");
        _pm.CallsForClient("client_test").Should().Be(1);
    }

    [Test]
    public async Task Pixel_PixelManagementDownWithNothingCached_Returns503WithRetryAfter()
    {
        await _pm.StopAsync();
        await using var host = SampleHostFactory.WithPixelManagement(_pm.Url);
        using var client = host.CreateClient();

        using var response = await client.GetAsync(new Uri("/pixel/client_acme/tracking.js", UriKind.Relative));

        response.StatusCode.Should().Be(HttpStatusCode.ServiceUnavailable);
        response.Headers.RetryAfter!.Delta.Should().Be(TimeSpan.FromSeconds(5));
        var body = await response.Content.ReadAsStringAsync();
        body.Should().NotContain("UseClientDirectory").And.NotContain("Analytics pixel");
    }

    [Test]
    public async Task Pixel_PixelManagementOutageAfterTheScriptWasServed_KeepsServingItFromTheCache()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var host = WithCacheClock(time);
        using var client = host.CreateClient();
        (await client.GetAsync(new Uri("/pixel/client_acme/tracking.js", UriKind.Relative))).StatusCode.Should().Be(HttpStatusCode.OK);

        await _pm.StopAsync();
        time.Advance(TimeSpan.FromHours(2));
        using var cached = await client.GetAsync(new Uri("/pixel/client_acme/tracking.js", UriKind.Relative));
        using var unknown = await client.GetAsync(new Uri("/pixel/client_new/tracking.js", UriKind.Relative));

        cached.StatusCode.Should().Be(HttpStatusCode.OK);
        using var config = PixelScripts.EmbeddedConfig(await cached.Content.ReadAsStringAsync());
        config.RootElement.GetProperty("client_id").GetString().Should().Be("client_acme");
        unknown.StatusCode.Should().Be(HttpStatusCode.ServiceUnavailable, "a client never seen cannot be told apart from one that does not exist");
    }

    [TestCase("..%2F..%2Fdomain%2Fshop.acme.com")]
    [TestCase("%2e%2e")]
    [TestCase("client_acme%2F..%2F..%2Fadmin")]
    [TestCase("client_acme%3Fx=1")]
    [TestCase(".hidden")]
    public async Task Pixel_ClientIdThatIsNoPlainIdentifier_Returns404WithoutReachingPixelManagement(string clientId)
    {
        await using var host = SampleHostFactory.WithPixelManagement(_pm.Url);
        using var client = host.CreateClient();

        using var response = await client.GetAsync(new Uri($"/pixel/{clientId}/tracking.js", UriKind.Relative));

        response.StatusCode.Should().Be(HttpStatusCode.NotFound);
        _pm.TotalCalls.Should().Be(0);
    }

    [Test]
    public async Task Collect_FloodOf5000UnknownSiteIdsFromManyAddresses_BoundsUpstreamCallsWhileACachedSiteKeepsGetting202()
    {
        // The budget's clock stands still: no lookup comes back during the flood, so the bound is exactly the burst.
        var budget = new AuthorizationOptions().LookupBudget;
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var host = new SampleHost(
            new Dictionary<string, string?> { ["PIXEL_MANAGEMENT_URL"] = _pm.Url },
            s => s.AddSingleton(sp => PixelManagementServices.CreateAuthorizer(sp, time)));
        using var throttled = new MetricCollector<long>(
            host.Services.GetRequiredService<IMeterFactory>(), "Evothesis.Collector", "evothesis.collector.authorization.lookups.throttled");
        (await host.SendAsync("POST", "/collect", Visitor, Known("warm-up"))).StatusCode.Should().Be(202);

        var flood = new ConcurrentBag<SampleHost.Response>();
        var known = new ConcurrentBag<SampleHost.Response>();
        await Parallel.ForEachAsync(Enumerable.Range(0, 5000), new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (i, _) =>
        {
            // 500 addresses, 10 made-up sites each: within every address's budget, far beyond the global one.
            var attacker = new IPAddress([10, 20, (byte)(i % 500 / 256), (byte)(i % 500 % 256)]);
            flood.Add(await host.SendAsync("POST", "/collect", attacker, $$"""{"eventType":"pageview","siteId":"flood-{{i}}.example"}"""));
            if (i % 25 == 0)
            {
                known.Add(await host.SendAsync("POST", "/collect", Visitor, Known($"known-{i}")));
            }
        });

        _pm.TotalCalls.Should().BeLessThanOrEqualTo(budget.Burst + 1, "one lookup of the cached site, and the global burst for the flood");
        _pm.CallsFor("shop.acme.com").Should().Be(1);
        known.Should().HaveCount(200).And.OnlyContain(r => r.StatusCode == 202);
        flood.Count(r => r.StatusCode == 403).Should().Be(_pm.TotalCalls - 1, "every site looked up is unknown to pixel-management");
        var refused = flood.Where(r => r.StatusCode != 403).ToList();
        refused.Should().HaveCount(5000 - (_pm.TotalCalls - 1)).And.OnlyContain(r => r.StatusCode == 503);
        refused.Should().OnlyContain(r => r.Headers.RetryAfter.ToString() == "1"
            && r.Body.Contains("urn:evothesis:collector:lookup-budget-exhausted"));
        throttled.GetMeasurementSnapshot().Should().HaveCount(refused.Count)
            .And.OnlyContain(m => (string?)m.Tags["reason"] == "global_budget");
    }

    [Test]
    public async Task Collect_FloodOfUnknownSiteIdsFromOneAddress_Answers429ToItAndKeepsOtherAddressesAndCachedSitesWorking()
    {
        var budget = new AuthorizationOptions().LookupBudget;
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var attacker = IPAddress.Parse("198.51.100.66");
        await using var host = new SampleHost(
            new Dictionary<string, string?> { ["PIXEL_MANAGEMENT_URL"] = _pm.Url },
            s => s.AddSingleton(sp => PixelManagementServices.CreateAuthorizer(sp, time)));
        using var rejected = new MetricCollector<long>(
            host.Services.GetRequiredService<IMeterFactory>(), "Evothesis.Collector", "evothesis.collector.events.rejected");
        (await host.SendAsync("POST", "/collect", Visitor, Known("warm-up"))).StatusCode.Should().Be(202);

        var flood = new List<SampleHost.Response>();
        for (var i = 0; i < 300; i++)
        {
            flood.Add(await host.SendAsync("POST", "/collect", attacker, $$"""{"eventType":"pageview","siteId":"flood-{{i}}.example"}"""));
        }

        var cachedFromAttacker = await host.SendAsync("POST", "/collect", attacker, Known("from-the-same-address"));
        var unknownFromOther = await host.SendAsync("POST", "/collect", Visitor, """{"eventType":"pageview","siteId":"new-site.example"}""");

        flood.Take(budget.BurstPerClient).Should().OnlyContain(r => r.StatusCode == 403);
        var refused = flood.Skip(budget.BurstPerClient).ToList();
        refused.Should().OnlyContain(r => r.StatusCode == 429 && r.Headers.RetryAfter.ToString() == "1");
        using (var problem = JsonDocument.Parse(refused[0].Body))
        {
            problem.RootElement.GetProperty("type").GetString().Should().Be("urn:evothesis:collector:lookup-rate-limited");
            problem.RootElement.GetProperty("status").GetInt32().Should().Be(429);
            problem.RootElement.GetProperty("detail").GetString().Should().Contain("retry later");
        }

        cachedFromAttacker.StatusCode.Should().Be(202, "a cached site costs no budget");
        unknownFromOther.StatusCode.Should().Be(403, "another address still has its budget");
        _pm.TotalCalls.Should().Be(budget.BurstPerClient + 2);
        rejected.GetMeasurementSnapshot().Where(m => (string?)m.Tags["reason"] == "lookup_rate_limited").Sum(m => m.Value)
            .Should().Be(refused.Count);
    }

    [Test]
    public async Task Health_ProbedRepeatedly_CallsPixelManagementOnceWithinTheCacheDuration()
    {
        await using var host = SampleHostFactory.WithPixelManagement(_pm.Url, new() { ["Evothesis:Authorization:HealthCheckCacheDuration"] = "00:01:00" });
        using var client = host.CreateClient();

        var probes = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => client.GetAsync(new Uri("/health", UriKind.Relative))));

        probes.Should().OnlyContain(p => p.StatusCode == HttpStatusCode.OK);
        _pm.Targets.Should().Equal(["/api/v1/config/domain/evothesis-health-check.invalid"], "one probe answers every check within a minute");
        foreach (var probe in probes)
        {
            probe.Dispose();
        }
    }

    private static string Known(string eventId) => $$"""{"eventType":"pageview","eventId":"{{eventId}}","siteId":"shop.acme.com"}""";

    private static async Task<HttpResponseMessage> PostAsync(HttpClient client, string? origin, string body, string? referer = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/collect") { Content = new StringContent(body, Encoding.UTF8) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        if (origin is not null)
        {
            request.Headers.TryAddWithoutValidation("Origin", origin);
        }

        if (referer is not null)
        {
            request.Headers.Referrer = new Uri(referer);
        }

        return await client.SendAsync(request);
    }

    private static async Task<JsonElement[]> RecentAsync(HttpClient client)
    {
        using var document = JsonDocument.Parse(await client.GetStringAsync("/events/recent?limit=100"));
        return document.RootElement.EnumerateArray().Select(e => e.Clone()).ToArray();
    }

    // The sample host on pixel-management, with the authorization cache on a clock the test moves. The outage's failed
    // attempts would open the circuit breaker, whose break runs on the real clock; the test moves only the cache's
    // clock, so it keeps the breaker closed.
    private SampleHostFactory WithCacheClock(FakeTimeProvider time) =>
        SampleHostFactory.WithPixelManagement(
            _pm.Url,
            services: s =>
            {
                s.AddSingleton(sp => PixelManagementServices.CreateAuthorizer(sp, time));
                s.Configure<HttpStandardResilienceOptions>(
                    AuthorizationOptions.PixelManagementHttpClientName + "-standard",
                    o => o.CircuitBreaker.MinimumThroughput = 1000);
            });
}
