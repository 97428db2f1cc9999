using System.Net;
using System.Text.Json;
using Evothesis.Collector.Sample.RateLimiting;
using Evothesis.Collector.Tests.Support;

namespace Evothesis.Collector.Tests.Sample;

/// <summary>The sample's rate limit of /collect per client address (Sample:RateLimit), off unless configured.</summary>
[TestFixture]
[CancelAfter(60_000)]
public sealed class CollectRateLimitingTests
{
    private const string Event = """{"eventType":"pageview","siteId":"localhost"}""";
    private static readonly IPAddress Visitor = IPAddress.Parse("198.51.100.7");
    private static readonly IPAddress Neighbour = IPAddress.Parse("198.51.100.8");

    [Test]
    public async Task Collect_BeyondTheConfiguredLimit_Answers429WithRetryAfterAndAProblemBody()
    {
        await using var host = new SampleHost(new Dictionary<string, string?>
        {
            ["Sample:RateLimit:PermitsPerSecond"] = "1",
            ["Sample:RateLimit:Burst"] = "3",
        });

        var responses = new List<SampleHost.Response>();
        for (var i = 0; i < 10; i++)
        {
            responses.Add(await host.SendAsync("POST", "/collect", Visitor, Event));
        }

        var neighbour = await host.SendAsync("POST", "/collect", Neighbour, Event);

        responses.Take(3).Should().OnlyContain(r => r.StatusCode == 202, "the bucket starts full with the burst of 3");

        // One token a second comes back: on a slow machine one or two more of the ten may pass.
        var refused = responses.Where(r => r.StatusCode == 429).ToList();
        refused.Should().HaveCountGreaterThanOrEqualTo(5);
        responses.Should().OnlyContain(r => r.StatusCode == 202 || r.StatusCode == 429);
        foreach (var response in refused)
        {
            int.Parse(response.Headers.RetryAfter.ToString(), System.Globalization.CultureInfo.InvariantCulture).Should().BeGreaterThanOrEqualTo(1);
            response.Headers.ContentType.ToString().Should().Be("application/problem+json");
            using var problem = JsonDocument.Parse(response.Body);
            problem.RootElement.GetProperty("type").GetString().Should().Be("urn:evothesis:collector:rate-limited");
            problem.RootElement.GetProperty("status").GetInt32().Should().Be(429);
        }

        neighbour.StatusCode.Should().Be(202, "each address has its own bucket");
    }

    [Test]
    public async Task Collect_WithoutConfiguration_NeverAnswers429()
    {
        await using var host = new SampleHost();

        var responses = await Task.WhenAll(Enumerable.Range(0, 60).Select(_ => host.SendAsync("POST", "/collect", Visitor, Event)));

        responses.Should().OnlyContain(r => r.StatusCode == 202);
    }

    [Test]
    public async Task Collect_BehindATrustedProxy_LimitsEachVisitorAddressNotTheProxy()
    {
        var proxy = IPAddress.Parse("10.0.0.5");
        await using var host = new SampleHost(new Dictionary<string, string?>
        {
            ["Sample:RateLimit:PermitsPerSecond"] = "1",
            ["Sample:RateLimit:Burst"] = "2",
            ["ForwardedHeaders:KnownProxies:0"] = proxy.ToString(),
        });

        var first = new List<int>();
        for (var i = 0; i < 6; i++)
        {
            first.Add((await SendViaProxyAsync(host, proxy, "203.0.113.1")).StatusCode);
        }

        var second = await SendViaProxyAsync(host, proxy, "203.0.113.2");

        first.Take(2).Should().OnlyContain(s => s == 202);
        first.Should().Contain(429);
        second.StatusCode.Should().Be(202, "the proxy's other visitors are not limited by the first one");
    }

    [Test]
    public async Task Start_NegativeLimit_FailsWithTheKey()
    {
        await using var host = new SampleHost(new Dictionary<string, string?> { ["Sample:RateLimit:PermitsPerSecond"] = "-1" });

        var start = async () => await host.SendAsync("GET", "/health");

        (await start.Should().ThrowAsync<Microsoft.Extensions.Options.OptionsValidationException>()).Which.Message.Should().Contain("PermitsPerSecond");
    }

    [TestCase("2001:db8:1:2::1", "2001:db8:1:2::ffff", true)]
    [TestCase("2001:db8:1:2::1", "2001:db8:1:3::1", false)]
    [TestCase("198.51.100.7", "::ffff:198.51.100.7", true)]
    [TestCase("198.51.100.7", "198.51.100.8", false)]
    public void PartitionKey_Addresses_ShareABucketOnlyWithinOneIPv4AddressOrIPv6Slash64(string first, string second, bool shared)
    {
        var a = CollectRateLimiting.PartitionKey(IPAddress.Parse(first));
        var b = CollectRateLimiting.PartitionKey(IPAddress.Parse(second));

        (a == b).Should().Be(shared);
    }

    private static Task<SampleHost.Response> SendViaProxyAsync(SampleHost host, IPAddress proxy, string visitor) =>
        host.SendAsync("POST", "/collect", proxy, Event, new Dictionary<string, string> { ["X-Forwarded-For"] = visitor });
}
