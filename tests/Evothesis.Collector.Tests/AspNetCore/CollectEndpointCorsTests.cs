using System.Diagnostics.Metrics;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.RegularExpressions;
using Evothesis.Collector.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;

namespace Evothesis.Collector.Tests.AspNetCore;

[TestFixture]
[CancelAfter(60_000)]
public sealed partial class CollectEndpointCorsTests
{
    private const string ShopOrigin = "https://shop.acme.com";
    private const string Pageview = """{"eventType":"pageview","sessionId":"s1","page_data":{"url":"https://shop.acme.com/"}}""";
    private FakePixelManagement _pm = null!;
    private SampleHostFactory _host = null!;
    private HttpClient _client = null!;

    [SetUp]
    public async Task SetUp()
    {
        _pm = await FakePixelManagement.StartAsync();
        _pm.SetClient("shop.acme.com", "client_acme");
        _host = SampleHostFactory.WithPixelManagement(_pm.Url, new() { ["Evothesis:Limits:MaxBodyBytes"] = "2048" });
        _client = _host.CreateClient();
    }

    [TearDown]
    public async Task TearDown()
    {
        _client.Dispose();
        await _host.DisposeAsync();
        await _pm.DisposeAsync();
    }

    [Test]
    public async Task Preflight_AuthorizedOrigin_EchoesExactlyThatOrigin()
    {
        using var response = await PreflightAsync(ShopOrigin);

        response.StatusCode.Should().Be(HttpStatusCode.NoContent);
        Header(response, "Access-Control-Allow-Origin").Should().Be(ShopOrigin);
        Header(response, "Access-Control-Allow-Methods").Should().Be("POST");
        Header(response, "Access-Control-Allow-Headers").Should().Contain("Content-Type");
        Header(response, "Access-Control-Max-Age").Should().Be("3600");
        Header(response, "Vary").Should().Contain("Origin");
    }

    [Test]
    public async Task Preflight_AuthorizedOriginWithPort_EchoesItAsSent()
    {
        using var response = await PreflightAsync("https://shop.acme.com:8443");

        Header(response, "Access-Control-Allow-Origin").Should().Be("https://shop.acme.com:8443");
    }

    [Test]
    public async Task Preflight_UnauthorizedOrigin_GetsNoGrant()
    {
        using var response = await PreflightAsync("https://evil.example");

        response.StatusCode.Should().Be(HttpStatusCode.Forbidden);
        AssertNoGrant(response);
        _pm.CallsFor("evil.example").Should().Be(1);
    }

    [TestCase("https://evil.example@shop.acme.com")]
    [TestCase("https://shop.acme.com/../admin")]
    [TestCase("null")]
    [TestCase("shop.acme.com")]
    public async Task Preflight_InvalidOrigin_GetsNoGrantAndNoLookup(string origin)
    {
        using var response = await PreflightAsync(origin);

        response.StatusCode.Should().Be(HttpStatusCode.Forbidden);
        AssertNoGrant(response);
        _pm.TotalCalls.Should().Be(0);
    }

    [Test]
    public async Task Preflight_UnknownOriginWhilePixelManagementIsDown_Is503WithRetryAfterAndNoGrant()
    {
        await _pm.StopAsync();

        using var response = await PreflightAsync(ShopOrigin);

        response.StatusCode.Should().Be(HttpStatusCode.ServiceUnavailable);
        response.Headers.RetryAfter!.Delta.Should().Be(TimeSpan.FromSeconds(5));
        AssertNoGrant(response);
    }

    [Test]
    public async Task Preflight_Outcomes_AreCounted()
    {
        using var preflights = new MetricCollector<long>(
            _host.Services.GetRequiredService<IMeterFactory>(), "Evothesis.Collector", "evothesis.collector.cors.preflights");

        using (await PreflightAsync(ShopOrigin))
        using (await PreflightAsync("https://evil.example"))
        using (await PreflightAsync("https://user@shop.acme.com"))
        {
        }

        preflights.GetMeasurementSnapshot().Select(m => m.Tags["outcome"]).Should().Equal("granted", "unauthorized", "invalid_origin");
    }

    [Test]
    public async Task Options_WithoutOrigin_DescribesTheEndpoint()
    {
        using var request = new HttpRequestMessage(HttpMethod.Options, "/collect");
        using var response = await _client.SendAsync(request);

        response.StatusCode.Should().Be(HttpStatusCode.NoContent);
        response.Content.Headers.Allow.Should().Contain("POST");
        AssertNoGrant(response);
    }

    [Test]
    public async Task PreflightThenPost_SameOrigin_OneLookupForBoth()
    {
        using (await PreflightAsync(ShopOrigin))
        {
        }

        using var response = await PostAsync(ShopOrigin, Pageview);

        response.StatusCode.Should().Be(HttpStatusCode.Accepted);
        _pm.CallsFor("shop.acme.com").Should().Be(1);
    }

    [Test]
    public async Task Post_AuthorizedOrigin_IsAcceptedWithGrant()
    {
        using var response = await PostAsync(ShopOrigin, Pageview);

        response.StatusCode.Should().Be(HttpStatusCode.Accepted);
        Header(response, "Access-Control-Allow-Origin").Should().Be(ShopOrigin);
        Header(response, "Access-Control-Expose-Headers").Should().Contain("Retry-After");
        Header(response, "Vary").Should().Contain("Origin");
    }

    [Test]
    public async Task Post_UnauthorizedOrigin_Is403WithoutGrant()
    {
        using var response = await PostAsync("https://evil.example", Pageview);

        response.StatusCode.Should().Be(HttpStatusCode.Forbidden);
        AssertNoGrant(response);
        Header(response, "Vary").Should().Contain("Origin");
    }

    [TestCase("{not json", "application/json", HttpStatusCode.BadRequest)]
    [TestCase("""{"sessionId":"s1"}""", "application/json", HttpStatusCode.BadRequest)]
    [TestCase(Pageview, "application/xml", HttpStatusCode.UnsupportedMediaType)]
    public async Task Post_AuthorizedOriginWithBadRequest_ErrorCarriesTheGrantSoThePageCanReadIt(string body, string contentType, HttpStatusCode status)
    {
        using var response = await PostAsync(ShopOrigin, body, contentType);

        response.StatusCode.Should().Be(status);
        Header(response, "Access-Control-Allow-Origin").Should().Be(ShopOrigin);
        (await response.Content.ReadAsStringAsync()).Should().Contain("urn:evothesis:collector:");
    }

    [Test]
    public async Task Post_AuthorizedOriginWithBodyTooLarge_413CarriesTheGrant()
    {
        var body = "{\"eventType\":\"pageview\",\"event_data\":{\"x\":\"" + new string('a', 4096) + "\"}}";

        using var response = await PostAsync(ShopOrigin, body);

        response.StatusCode.Should().Be(HttpStatusCode.RequestEntityTooLarge);
        Header(response, "Access-Control-Allow-Origin").Should().Be(ShopOrigin);
    }

    [Test]
    public async Task Post_UnknownOriginWhilePixelManagementIsDown_Is503WithRetryAfterAndNoGrant()
    {
        await _pm.StopAsync();

        using var response = await PostAsync(ShopOrigin, Pageview);

        response.StatusCode.Should().Be(HttpStatusCode.ServiceUnavailable);
        response.Headers.RetryAfter!.Delta.Should().Be(TimeSpan.FromSeconds(5));
        (await response.Content.ReadAsStringAsync()).Should().Contain("authorization-unavailable");
        AssertNoGrant(response);
    }

    [Test]
    public async Task Post_TextPlainBeaconWithoutPreflight_IsAcceptedAndAttributed()
    {
        using var response = await PostAsync(ShopOrigin, Pageview, "text/plain;charset=UTF-8");

        response.StatusCode.Should().Be(HttpStatusCode.Accepted);
        var recent = await _client.GetStringAsync("/events/recent?client_id=client_acme");
        recent.Should().Contain("\"client_id\":\"client_acme\"").And.Contain("\"siteId\":\"shop.acme.com\"");
    }

    [Test]
    public async Task Post_NullOriginWithAuthorizedReferer_IsAcceptedWithoutGrant()
    {
        using var request = Post("null", Pageview);
        request.Headers.Referrer = new Uri("https://shop.acme.com/page");

        using var response = await _client.SendAsync(request);

        response.StatusCode.Should().Be(HttpStatusCode.Accepted);
        AssertNoGrant(response);
    }

    [TestCase("https://shop.acme.com/../../admin")]
    [TestCase("https://shop.acme.com%2F..%2F..%2Fadmin")]
    [TestCase("https://..%2F..%2Fadmin")]
    [TestCase("https://evil.example\\@shop.acme.com")]
    [TestCase("https://admin%2F..")]
    [TestCase("https://%2e%2e")]
    [TestCase("https://xn--bcher-kva.de/../admin")]
    [TestCase("https://bücher.de")]
    [TestCase("https://shop.acme.com:99999")]
    [TestCase("https://shop.acme.com\u2215..\u2215admin")]
    public async Task Post_HostileOrigin_NeverMakesTheCollectorCallAnotherPath(string origin)
    {
        using var response = await PostAsync(origin, Pageview);
        using var withSiteId = await PostAsync(string.Empty, """{"eventType":"pageview","siteId":"../../admin"}""");
        using (await PreflightAsync(origin))
        {
        }

        response.StatusCode.Should().Be(HttpStatusCode.Forbidden);
        AssertNoGrant(response);
        withSiteId.StatusCode.Should().Be(HttpStatusCode.Forbidden);
        _pm.Targets.Where(t => !LookupTarget().IsMatch(t)).Should().BeEmpty();
        _pm.Targets.Should().NotContain(t => t.Contains("admin", StringComparison.OrdinalIgnoreCase));
    }

    [GeneratedRegex("^/api/v1/config/domain/[a-z0-9](?:[a-z0-9.-]*[a-z0-9])?$")]
    private static partial Regex LookupTarget();

    [Test]
    public async Task Preflight_UnknownOriginsBeyondTheLookupBudget_AreRefusedWithRetryAfterAndNoGrant()
    {
        // Each address may cause two lookups, everyone together three; the cached shop costs nothing.
        await using var host = new SampleHost(new Dictionary<string, string?>
        {
            ["PIXEL_MANAGEMENT_URL"] = _pm.Url,
            ["Evothesis:Authorization:LookupBudget:Burst"] = "3",
            ["Evothesis:Authorization:LookupBudget:BurstPerClient"] = "2",
            ["Evothesis:Authorization:LookupBudget:PermitsPerSecond"] = "0.001",
            ["Evothesis:Authorization:LookupBudget:PermitsPerSecondPerClient"] = "0.001",
        });
        var first = IPAddress.Parse("198.51.100.1");
        var second = IPAddress.Parse("198.51.100.2");
        var statuses = new List<int>
        {
            (await PreflightAsync(host, first, ShopOrigin)).StatusCode,
            (await PreflightAsync(host, first, "https://made-up-1.example")).StatusCode,
        };

        var perAddress = await PreflightAsync(host, first, "https://made-up-2.example");
        statuses.Add((await PreflightAsync(host, second, "https://made-up-3.example")).StatusCode);
        var global = await PreflightAsync(host, second, "https://made-up-4.example");
        var shop = await PreflightAsync(host, second, ShopOrigin);

        statuses.Should().Equal(204, 403, 403);
        perAddress.StatusCode.Should().Be(429);
        global.StatusCode.Should().Be(503);
        foreach (var refused in new[] { perAddress, global })
        {
            refused.Headers.RetryAfter.ToString().Should().Be("1000", "one lookup comes back every 1000 s at 0.001 per second");
            refused.Headers.AccessControlAllowOrigin.Should().BeEmpty();
        }

        shop.StatusCode.Should().Be(204);
        shop.Headers.AccessControlAllowOrigin.ToString().Should().Be(ShopOrigin);
    }

    private static Task<SampleHost.Response> PreflightAsync(SampleHost host, IPAddress peer, string origin) =>
        host.SendAsync("OPTIONS", "/collect", peer, headers: new Dictionary<string, string>
        {
            ["Origin"] = origin,
            ["Access-Control-Request-Method"] = "POST",
        });

    private static string? Header(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values) || response.Content.Headers.TryGetValues(name, out values)
            ? string.Join(", ", values)
            : null;

    private static void AssertNoGrant(HttpResponseMessage response)
    {
        Header(response, "Access-Control-Allow-Origin").Should().BeNull();
        Header(response, "Access-Control-Allow-Methods").Should().BeNull();
        Header(response, "Access-Control-Allow-Headers").Should().BeNull();
    }

    private static HttpRequestMessage Post(string origin, string body, string contentType = "application/json")
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/collect")
        {
            Content = new StringContent(body, Encoding.UTF8),
        };
        request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
        if (origin.Length > 0)
        {
            request.Headers.TryAddWithoutValidation("Origin", origin);
        }

        return request;
    }

    private async Task<HttpResponseMessage> PostAsync(string origin, string body, string contentType = "application/json")
    {
        using var request = Post(origin, body, contentType);
        return await _client.SendAsync(request);
    }

    private async Task<HttpResponseMessage> PreflightAsync(string origin)
    {
        using var request = new HttpRequestMessage(HttpMethod.Options, "/collect");
        request.Headers.TryAddWithoutValidation("Origin", origin);
        request.Headers.TryAddWithoutValidation("Access-Control-Request-Method", "POST");
        request.Headers.TryAddWithoutValidation("Access-Control-Request-Headers", "content-type");
        return await _client.SendAsync(request);
    }
}
