using System.Net;
using System.Text;
using Evothesis.Collector.Sinks.Recent;
using Evothesis.Collector.Tests.Support;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;

namespace Evothesis.Collector.Tests.AspNetCore;

public class CollectorEndpointRouteBuilderExtensionsTests
{
    [Test]
    public async Task MapEvothesisCollector_WithoutAddEvothesisCollector_NamesTheMissingCall()
    {
        var builder = WebApplication.CreateBuilder();
        await using var app = builder.Build();

        var act = () => app.MapEvothesisCollector();

        act.Should().Throw<InvalidOperationException>().WithMessage("*AddEvothesisCollector*");
    }

    [Test]
    public async Task MapEvothesisRecentEvents_WithoutAddEvothesisCollector_NamesTheMissingCall()
    {
        var builder = WebApplication.CreateBuilder();
        await using var app = builder.Build();

        var act = () => app.MapEvothesisRecentEvents();

        act.Should().Throw<InvalidOperationException>().WithMessage("*AddEvothesisCollector*");
    }

    [TestCase(false)]
    [TestCase(true)]
    public async Task MapEvothesisRecentEvents_MappedOrNot_FillsTheInMemoryStoreOnlyWhenMapped(bool mapRecent)
    {
        using var storage = new TempDirectory();
        var builder = WebApplication.CreateBuilder();
        builder.WebHost.UseTestServer();
        builder.Services.AddEvothesisCollector(o =>
        {
            o.Storage.Path = storage.Path;
            o.Batching.AckMode = Evothesis.Collector.Batching.AckMode.Committed;
        });
        builder.Services.AddSingleton<Evothesis.Collector.Authorization.IDomainAuthorizer>(new StaticDomainAuthorizer(Clients.All()));
        await using var app = builder.Build();
        app.MapEvothesisCollector();
        if (mapRecent)
        {
            app.MapEvothesisRecentEvents();
        }

        await app.StartAsync();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/collect")
        {
            Content = new StringContent("""{"eventType":"pageview"}""", Encoding.UTF8, "application/json"),
        };
        request.Headers.Add("Origin", Clients.Origin(Clients.StandardDomain));
        var response = await app.GetTestClient().SendAsync(request);

        response.StatusCode.Should().Be(HttpStatusCode.Accepted);
        var kept = await app.Services.GetRequiredService<InMemoryRecentEventStore>().GetRecentAsync(10, null, default);
        kept.Should().HaveCount(mapRecent ? 1 : 0);
        await app.StopAsync();
    }
}
