using Microsoft.Playwright;

namespace Evothesis.Collector.BrowserTests.Support;

/// <summary>
/// What every browser test shares, started once: the sample host, the unlisted site, Playwright and Chromium.
/// Each test gets its own browser context (fresh storage, so its own pixel session).
/// </summary>
internal static class BrowserTestEnvironment
{
    private static SampleHost? _host;
    private static UnlistedSite? _unlisted;
    private static IPlaywright? _playwright;
    private static IBrowser? _browser;

    public static SampleHost Host => _host ?? throw NotStarted();

    public static UnlistedSite Unlisted => _unlisted ?? throw NotStarted();

    public static IBrowser Browser => _browser ?? throw NotStarted();

    public static async Task StartAsync()
    {
        _host = new SampleHost();
        _host.Start();
        _unlisted = await UnlistedSite.StartAsync(_host.BaseAddress);
        _playwright = await Playwright.CreateAsync();
        _browser = await Chromium.LaunchAsync(_playwright);
    }

    public static async Task StopAsync()
    {
        if (_browser is not null)
        {
            await _browser.DisposeAsync();
        }

        _playwright?.Dispose();
        if (_unlisted is not null)
        {
            await _unlisted.DisposeAsync();
        }

        if (_host is not null)
        {
            await _host.DisposeAsync();
        }
    }

    private static InvalidOperationException NotStarted() => new("The browser test environment was not started.");
}
