using System.Net;
using Evothesis.Collector.Authorization;
using Evothesis.Collector.Tests.Support;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;

namespace Evothesis.Collector.Tests.Sample;

/// <summary>The sample's development pixel, <c>GET /pixel/{client_id}/tracking.js</c>, and the demo site at <c>/</c>.</summary>
public sealed class PixelEndpointTests
{
    [Test]
    public async Task Get_ClientOfTheClientsFile_ServesTheScriptWithItsConfiguration()
    {
        await using var app = new CollectorApplication();
        using var client = app.CreateClient();

        using var response = await client.GetAsync(new Uri("/pixel/client_test/tracking.js", UriKind.Relative));

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        response.Content.Headers.ContentType!.ToString().Should().Be("text/javascript; charset=utf-8");
        response.Headers.GetValues("X-Content-Type-Options").Should().Equal("nosniff");
        var script = await response.Content.ReadAsStringAsync();
        script.Should().Contain("Analytics pixel loaded for client: ").And.NotContain("__EVOTHESIS_CONFIG__");
        using var config = PixelScripts.EmbeddedConfig(script);
        var root = config.RootElement;
        root.GetProperty("client_id").GetString().Should().Be("client_test");
        root.GetProperty("endpoint").GetString().Should().Be("http://localhost/collect", "the collector of the host the script came from");
        root.GetProperty("privacy_mode").GetString().Should().Be("standard");
        root.GetProperty("consent").GetProperty("required").GetBoolean().Should().BeFalse();
        root.GetProperty("batch_size").GetInt32().Should().Be(20);
        root.GetProperty("flush_interval").GetInt32().Should().Be(5000);
        root.GetProperty("max_retries").GetInt32().Should().Be(5);
    }

    [Test]
    public async Task Get_ClientWithASalt_ServesItsPrivacyModeAndNeverTheSalt()
    {
        await using var app = new CollectorApplication();
        using var client = app.CreateClient();

        var script = await client.GetStringAsync(new Uri("/pixel/client_acme_corp/tracking.js", UriKind.Relative));

        using var config = PixelScripts.EmbeddedConfig(script);
        config.RootElement.GetProperty("privacy_mode").GetString().Should().Be("gdpr");
        config.RootElement.EnumerateObject().Select(p => p.Name).Should()
            .BeEquivalentTo(["client_id", "endpoint", "privacy_mode", "consent", "batch_size", "flush_interval", "max_retries"]);
        script.Should().NotContain("sample-salt-acme").And.NotContain("salt\"");
    }

    [Test]
    public async Task Get_ConfiguredPixelSettings_AreEmbedded()
    {
        await using var app = new CollectorApplication()
            .WithSetting("Sample:Pixel:CollectorEndpoint", "https://collect.example.net/collect")
            .WithSetting("Sample:Pixel:BatchSize", "7")
            .WithSetting("Sample:Pixel:FlushInterval", "00:00:01.5");
        using var client = app.CreateClient();

        using var config = PixelScripts.EmbeddedConfig(await client.GetStringAsync(new Uri("/pixel/client_test/tracking.js", UriKind.Relative)));

        config.RootElement.GetProperty("endpoint").GetString().Should().Be("https://collect.example.net/collect");
        config.RootElement.GetProperty("batch_size").GetInt32().Should().Be(7);
        config.RootElement.GetProperty("flush_interval").GetInt32().Should().Be(1500);
    }

    [TestCase("client_unknown")]
    [TestCase("client_test2")]
    public async Task Get_UnknownClient_Returns404(string clientId)
    {
        await using var app = new CollectorApplication();
        using var client = app.CreateClient();

        using var response = await client.GetAsync(new Uri($"/pixel/{clientId}/tracking.js", UriKind.Relative));

        response.StatusCode.Should().Be(HttpStatusCode.NotFound);
        (await response.Content.ReadAsStringAsync()).Should().NotContain("Analytics pixel");
    }

    [TestCase("%3Cscript%3Ealert(1)%3C%2Fscript%3E")]
    [TestCase("client_test%22%3B")]
    [TestCase("..")]
    [TestCase("-client")]
    [TestCase("client%20test")]
    [TestCase("client%0Atest")]
    public async Task Get_ClientIdThatIsNoPlainIdentifier_Returns404WithoutLookup(string clientId)
    {
        var directory = new CountingClientDirectory();
        await using var app = new CollectorApplication().WithServices(s => s.Replace(ServiceDescriptor.Singleton<IClientDirectory>(directory)));
        using var client = app.CreateClient();

        using var response = await client.GetAsync(new Uri($"/pixel/{clientId}/tracking.js", UriKind.Relative));

        response.StatusCode.Should().Be(HttpStatusCode.NotFound);
        directory.Lookups.Should().Be(0);
    }

    [Test]
    public async Task Get_WithTheETagOfTheCurrentScript_Returns304()
    {
        await using var app = new CollectorApplication();
        using var client = app.CreateClient();
        using var first = await client.GetAsync(new Uri("/pixel/client_test/tracking.js", UriKind.Relative));
        var etag = first.Headers.ETag!;

        using var request = new HttpRequestMessage(HttpMethod.Get, "/pixel/client_test/tracking.js");
        request.Headers.IfNoneMatch.Add(etag);
        using var second = await client.SendAsync(request);

        second.StatusCode.Should().Be(HttpStatusCode.NotModified);
        second.Headers.ETag.Should().Be(etag);
    }

    [Test]
    public async Task Get_DirectoryUnavailable_Returns503WithRetryAfter()
    {
        await using var app = new CollectorApplication().WithServices(s => s
            .AddFakeLogging()
            .Replace(ServiceDescriptor.Singleton<IClientDirectory, UnavailableClientDirectory>()));
        using var client = app.CreateClient();

        using var response = await client.GetAsync(new Uri("/pixel/client_test/tracking.js", UriKind.Relative));

        response.StatusCode.Should().Be(HttpStatusCode.ServiceUnavailable);
        response.Headers.RetryAfter!.Delta.Should().Be(TimeSpan.FromSeconds(7));

        // An expected outage is a one-line warning, not an error with a stack trace.
        var record = app.Services.GetRequiredService<FakeLogCollector>().GetSnapshot().Should().ContainSingle(r => r.Id.Id == 1703).Subject;
        record.Level.Should().Be(LogLevel.Warning);
        record.Exception.Should().BeNull();
    }

    [Test]
    public async Task Get_InProduction_ServesNeitherPixelNorDemoSite()
    {
        // Production refuses the demo clients file (its salts are published): a file of the test's own.
        await using var development = new CollectorApplication();
        var clients = Path.Combine(development.Storage.Path, "clients.json");
        await File.WriteAllTextAsync(clients, """{"localhost":{"client_id":"client_test","privacy_level":"standard"}}""");
        await using var app = development
            .WithSetting("Evothesis:Authorization:ClientsFile", clients)
            .WithWebHostBuilder(builder => builder.UseEnvironment("Production"));
        using var client = app.CreateClient();

        using var pixel = await client.GetAsync(new Uri("/pixel/client_test/tracking.js", UriKind.Relative));
        using var site = await client.GetAsync(new Uri("/", UriKind.Relative));

        pixel.StatusCode.Should().Be(HttpStatusCode.NotFound);
        site.StatusCode.Should().Be(HttpStatusCode.NotFound);
    }

    [TestCase("/", "/pixel/client_test/tracking.js")]
    [TestCase("/products.html", "purchase")]
    [TestCase("/contact.html", "contact-form")]
    [TestCase("/assets/site.css", "--brand")]
    public async Task Get_DemoSiteInDevelopment_ServesTheTestingFolder(string path, string expected)
    {
        await using var app = new CollectorApplication();
        using var client = app.CreateClient();

        using var response = await client.GetAsync(new Uri(path, UriKind.Relative));

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        (await response.Content.ReadAsStringAsync()).Should().Contain(expected);
    }

    private sealed class CountingClientDirectory : IClientDirectory
    {
        public int Lookups { get; private set; }

        public ValueTask<ClientConfig?> FindClientAsync(string clientId, CancellationToken cancellationToken)
        {
            Lookups++;
            return ValueTask.FromResult<ClientConfig?>(null);
        }
    }
}
