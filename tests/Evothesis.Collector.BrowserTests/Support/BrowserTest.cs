using System.Collections.Concurrent;
using System.Text.Json;
using Microsoft.Playwright;
using NUnit.Framework.Interfaces;

namespace Evothesis.Collector.BrowserTests.Support;

/// <summary>
/// A test with its own browser context and page on the shared Chromium, recording the page's console and
/// its <c>/collect</c> traffic.
/// </summary>
public abstract class BrowserTest
{
    private readonly ConcurrentQueue<string> _console = new();

    internal static SampleHost Host => BrowserTestEnvironment.Host;

    internal IBrowserContext Context { get; private set; } = null!;

    internal IPage Page { get; private set; } = null!;

    internal CollectTraffic Traffic { get; private set; } = null!;

    /// <summary>Gets the console messages so far, as "type: text".</summary>
    internal IReadOnlyList<string> ConsoleMessages => _console.ToList();

    [SetUp]
    public async Task OpenContextAsync()
    {
        Context = await BrowserTestEnvironment.Browser.NewContextAsync(new BrowserNewContextOptions
        {
            BaseURL = Host.BaseAddress.ToString(),
            ViewportSize = new ViewportSize { Width = 1280, Height = 800 },
        });
        Context.SetDefaultTimeout(Waits.DeadlineMilliseconds);
        Context.SetDefaultNavigationTimeout(Waits.DeadlineMilliseconds);
        Traffic = CollectTraffic.Attach(Context);
        Context.Console += (_, message) => _console.Enqueue(message.Type + ": " + message.Text);
        Page = await Context.NewPageAsync();
    }

    [TearDown]
    public async Task CloseContextAsync()
    {
        if (TestContext.CurrentContext.Result.Outcome.Status == TestStatus.Failed && Page is { IsClosed: false })
        {
            await ScreenshotAsync(TestContext.CurrentContext.Test.Name + "-failure", "The page when the test failed");
            TestContext.Out.WriteLine("Console:" + Environment.NewLine + string.Join(Environment.NewLine, ConsoleMessages));
        }

        await Context.CloseAsync();
    }

    /// <summary>Sets <c>window.EvothesisConfig</c> before any page script runs, as a site would before the pixel tag.</summary>
    /// <param name="config">The page configuration.</param>
    internal Task ConfigurePixelAsync(object config) =>
        Context.AddInitScriptAsync("window.EvothesisConfig = " + JsonSerializer.Serialize(config) + ";");

    /// <summary>Waits for the pixel to be loaded and returns its session id.</summary>
    /// <returns>The tab's session id.</returns>
    internal async Task<string> WaitForPixelAsync()
    {
        await Page.WaitForFunctionAsync("() => !!(window.evothesis && window.evothesis.version)");
        return await Page.EvaluateAsync<string>("() => evothesis.getSessionId()");
    }

    /// <summary>Waits until the pixel has nothing waiting and has sent at least <paramref name="count"/> events.</summary>
    /// <param name="count">The least number of events sent.</param>
    internal Task WaitForPixelIdleAsync(int count) =>
        Page.WaitForFunctionAsync(
            "n => { const s = evothesis.getStats(); return s.events_queued === 0 && s.events_sent >= n; }",
            count);

    /// <summary>Takes a screenshot of the page and keeps it as a test artifact.</summary>
    /// <param name="name">The file name, without extension.</param>
    /// <param name="description">What it shows.</param>
    internal async Task ScreenshotAsync(string name, string description)
    {
        var path = Path.Combine(TestContext.CurrentContext.WorkDirectory, "screenshots", name + ".png");
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        await Page.ScreenshotAsync(new PageScreenshotOptions { Path = path });
        TestContext.AddTestAttachment(path, description);
    }
}
