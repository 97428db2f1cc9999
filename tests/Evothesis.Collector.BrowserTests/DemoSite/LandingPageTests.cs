using System.Text.Json.Nodes;
using Evothesis.Collector.BrowserTests.Support;
using Microsoft.Playwright;

namespace Evothesis.Collector.BrowserTests.DemoSite;

/// <summary><c>index.html</c>: the pixel loads for client_test and the automatic events arrive in batches.</summary>
public sealed class LandingPageTests : BrowserTest
{
    [Test]
    public async Task Open_LandingPage_LogsPixelLoadedForClientTest()
    {
        var loaded = Page.WaitForConsoleMessageAsync(new PageWaitForConsoleMessageOptions
        {
            Predicate = m => m.Text.StartsWith("[Evothesis] Analytics pixel loaded", StringComparison.Ordinal),
        });

        var response = await Page.GotoAsync("/");

        response!.Status.Should().Be(200, "the sample serves the demo site at / in Development");
        (await loaded).Text.Should().Be("[Evothesis] Analytics pixel loaded for client: client_test");
        (await Page.TitleAsync()).Should().Contain("Summit & Co.");
        await WaitForPixelIdleAsync(1);
        ConsoleMessages.Should().NotContain(m => m.StartsWith("error:", StringComparison.Ordinal), "the demo runs without errors");
        await ScreenshotAsync("index", "index.html, the landing page");
    }

    [Test]
    public async Task PageviewClicksAndScroll_OnLandingPage_ArriveBatchedAndStoredForClientTest()
    {
        // Long enough for the interactions below to share batches; the pixel's own default is 5 s.
        await ConfigurePixelAsync(new { flush_interval = 1500 });
        await Page.GotoAsync("/");
        var sessionId = await WaitForPixelAsync();

        await Page.ClickAsync("#faq-returns summary");
        await Page.ClickAsync("#faq-shipping summary");
        await Page.ClickAsync("#cta-story");
        await Page.EvaluateAsync("() => window.scrollTo(0, document.documentElement.scrollHeight)");

        // pageview, 3 clicks, the page's own cta_story event, scroll depths 25/50/75/100.
        const int expected = 9;
        await WaitForPixelIdleAsync(expected);
        var calls = Traffic.Calls;
        var sent = calls.SelectMany(c => c.Events).ToList();

        TestContext.Out.WriteLine($"{sent.Count} events in {calls.Count} requests of {string.Join(", ", calls.Select(c => c.Events.Count))} events");
        sent.Should().HaveCount(expected);
        calls.Should().HaveCountLessThan(expected, "events are batched: fewer requests than events");
        calls.Should().OnlyContain(c => c.Status == 202 && c.ResourceType == "fetch");
        calls.Select(c => (string?)c.Envelope["eventType"]).Should().OnlyContain(t => t == "batch");
        calls.Select(c => (string?)c.Envelope["sessionId"]).Should().OnlyContain(s => s == sessionId);
        sent.Select(e => (string?)e["eventId"]).Should().OnlyHaveUniqueItems().And.NotContainNulls();

        var sentIds = sent.Select(e => (string)e["eventId"]!).ToHashSet();
        var stored = await Host.WaitForSessionEventsAsync(
            sessionId, events => sentIds.IsSubsetOf(events.Select(e => (string)e["eventId"]!)), "the sent events to be stored");

        stored.Should().HaveCount(expected, "each event is stored once");
        stored.Should().OnlyContain(e => (string?)e["client_id"] == "client_test" && (string?)e["siteId"] == "127.0.0.1");
        Types(stored).Should().BeEquivalentTo(["pageview", "click", "click", "click", "cta_story", "scroll", "scroll", "scroll", "scroll"]);
        stored.Where(e => (string?)e["eventType"] == "scroll").Select(e => (int)e["event_data"]!["depth"]!)
            .Should().BeEquivalentTo([25, 50, 75, 100]);
        var pageview = stored.Single(e => (string?)e["eventType"] == "pageview");
        ((string?)pageview["page_data"]!["url"]).Should().Be(Host.BaseAddress + "");
        ((string?)pageview["page_data"]!["title"]).Should().Contain("Summit & Co.");
        stored.Where(e => (string?)e["eventType"] == "click").Select(e => (string?)e["event_data"]!["element"])
            .Should().BeEquivalentTo(["summary", "summary", "button"]);
        var ctaClick = stored.Single(e => (string?)e["event_data"]?["id"] == "cta-story");
        ((string?)ctaClick["event_data"]!["label"]).Should().Be("hero-story");
        ((string?)ctaClick["event_data"]!["text"]).Should().Be("Read the field notes");

        // The demo's Live analytics panel, opened: what a client sees during a demo.
        await Page.EvaluateAsync("() => window.scrollTo(0, 0)");
        await Page.ClickAsync(".inspector header");
        await Page.WaitForFunctionAsync("n => Number(document.querySelector('[data-stat=\"stored\"]').textContent) >= n", expected);
        await ScreenshotAsync("index-live-analytics", "index.html with the Live analytics panel open after the interactions");
    }

    private static IEnumerable<string?> Types(IEnumerable<JsonObject> events) => events.Select(e => (string?)e["eventType"]);
}
