using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.FileProviders;
using Microsoft.Extensions.Logging;

namespace Evothesis.Collector.BrowserTests.Support;

/// <summary>
/// A website whose host is not in the sample's clients.json: the same demo pages, served from 127.0.0.2 (any
/// 127/8 address is loopback on Linux), with the pixel loaded from the collector's own host as a customer
/// site would (<c>/pixel/...</c> redirects there). Its events are cross-origin requests to the collector.
/// </summary>
internal sealed class UnlistedSite : IAsyncDisposable
{
    private readonly WebApplication _app;

    private UnlistedSite(WebApplication app, Uri baseAddress)
    {
        _app = app;
        BaseAddress = baseAddress;
    }

    /// <summary>Gets the site's address, such as <c>http://127.0.0.2:43210</c>.</summary>
    public Uri BaseAddress { get; }

    /// <summary>Starts the site.</summary>
    /// <param name="collector">The collector host the pixel is loaded from.</param>
    /// <returns>The running site.</returns>
    public static async Task<UnlistedSite> StartAsync(Uri collector)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(options => options.Listen(IPAddress.Parse("127.0.0.2"), 0));
        var app = builder.Build();

        app.MapGet("/pixel/{**rest}", (HttpContext context) =>
            Results.Redirect(new Uri(collector, context.Request.Path + context.Request.QueryString).ToString()));
        var files = new PhysicalFileProvider(RepositoryPaths.DemoSite);
        app.UseDefaultFiles(new DefaultFilesOptions { FileProvider = files });
        app.UseStaticFiles(new StaticFileOptions { FileProvider = files });

        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.Single();
        return new UnlistedSite(app, new Uri(address));
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
