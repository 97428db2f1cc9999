using Evothesis.Collector.Sample.Pixel;
using Microsoft.Extensions.FileProviders;

namespace Microsoft.AspNetCore.Builder;

/// <summary>Serves the demo integration site (the repository's <c>testing/</c> folder) at <c>/</c>.</summary>
internal static class DemoSiteExtensions
{
    /// <summary>The configuration section: <c>Enabled</c> (default: Development only) and <c>Path</c>.</summary>
    public const string SectionName = "Sample:DemoSite";

    /// <summary>The default folder, relative to the content root (the sample's project folder).</summary>
    public const string DefaultPath = "../../testing";

    /// <summary>Serves the demo site's files, with <c>index.html</c> for <c>/</c>, when enabled.</summary>
    /// <param name="app">The application.</param>
    /// <returns>The application.</returns>
    public static WebApplication UseDemoSite(this WebApplication app)
    {
        var section = app.Configuration.GetSection(SectionName);
        if (!(section.GetValue<bool?>("Enabled") ?? app.Environment.IsDevelopment()))
        {
            return app;
        }

        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Evothesis.Collector.Sample.DemoSite");
        var configured = section["Path"];
        var path = Path.GetFullPath(Path.Combine(app.Environment.ContentRootPath, string.IsNullOrWhiteSpace(configured) ? DefaultPath : configured));
        if (!Directory.Exists(path))
        {
            PixelLog.DemoSiteMissing(logger, path);
            return app;
        }

        var files = new PhysicalFileProvider(path);
        app.UseDefaultFiles(new DefaultFilesOptions { FileProvider = files });
        app.UseStaticFiles(new StaticFileOptions
        {
            FileProvider = files,
            // Edits to the demo pages show on the next reload.
            OnPrepareResponse = context => context.Context.Response.Headers.CacheControl = "no-cache",
        });
        PixelLog.DemoSiteServed(logger, path);
        return app;
    }
}
