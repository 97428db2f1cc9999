using Microsoft.AspNetCore.Builder;

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
}
