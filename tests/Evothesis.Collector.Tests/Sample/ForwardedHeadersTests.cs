using System.Net;
using System.Text.Json;
using Evothesis.Collector.Tests.Support;

namespace Evothesis.Collector.Tests.Sample;

/// <summary>
/// X-Forwarded-For decides the stored IP only when it comes from a configured proxy. The sample's localhost
/// client is a standard client, so the stored IP is the address itself.
/// </summary>
public sealed class ForwardedHeadersTests
{
    private static readonly IPAddress Proxy = IPAddress.Parse("10.0.0.5");
    private static readonly IPAddress Stranger = IPAddress.Parse("203.0.113.9");

    [Test]
    public async Task Collect_SpoofedHeaderFromUntrustedPeer_IsIgnored()
    {
        await using var host = new SampleHost(new Dictionary<string, string?> { ["ForwardedHeaders:KnownProxies:0"] = Proxy.ToString() });

        var ip = await PostAndReadStoredIpAsync(host, Stranger, "198.51.100.7");

        ip.Should().Be(Stranger.ToString());
    }

    [Test]
    public async Task Collect_HeaderFromTrustedProxy_GivesTheVisitorAddress()
    {
        await using var host = new SampleHost(new Dictionary<string, string?> { ["ForwardedHeaders:KnownProxies:0"] = Proxy.ToString() });

        var ip = await PostAndReadStoredIpAsync(host, Proxy, "198.51.100.7");

        ip.Should().Be("198.51.100.7");
    }

    [Test]
    public async Task Collect_TrustedProxyAppendingToASpoofedChain_UsesOnlyTheEntryTheProxyAdded()
    {
        await using var host = new SampleHost(new Dictionary<string, string?> { ["ForwardedHeaders:KnownNetworks:0"] = "10.0.0.0/8" });

        var ip = await PostAndReadStoredIpAsync(host, Proxy, "192.0.2.66, 198.51.100.7");

        ip.Should().Be("198.51.100.7");
    }

    [Test]
    public async Task Collect_NoProxyConfigured_IgnoresTheHeaderEvenFromLoopback()
    {
        await using var host = new SampleHost();

        var ip = await PostAndReadStoredIpAsync(host, IPAddress.Loopback, "198.51.100.7");

        ip.Should().Be("127.0.0.1");
    }

    [Test]
    public async Task Start_InvalidProxyAddress_FailsWithTheKeyInTheMessage()
    {
        await using var host = new SampleHost(new Dictionary<string, string?> { ["ForwardedHeaders:KnownProxies:0"] = "not-an-ip" });

        var act = async () => await host.SendAsync("GET", "/health");

        (await act.Should().ThrowAsync<InvalidOperationException>()).Which.Message.Should().Contain("ForwardedHeaders:KnownProxies:0");
    }

    private static async Task<string?> PostAndReadStoredIpAsync(SampleHost host, IPAddress peer, string forwardedFor)
    {
        var response = await host.SendAsync(
            "POST",
            "/collect",
            peer,
            """{"eventType":"pageview","eventId":"fwd-1"}""",
            new Dictionary<string, string> { ["Origin"] = "http://localhost", ["X-Forwarded-For"] = forwardedFor });
        response.StatusCode.Should().Be(202, response.Body);

        var recent = await host.SendAsync("GET", "/events/recent?limit=1");
        using var document = JsonDocument.Parse(recent.Body);
        var stored = document.RootElement.EnumerateArray().Should().ContainSingle().Subject;
        stored.GetProperty("eventId").GetString().Should().Be("fwd-1");
        return stored.GetProperty("ip").GetString();
    }
}
