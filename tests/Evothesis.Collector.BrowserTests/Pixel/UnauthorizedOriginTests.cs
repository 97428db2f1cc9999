using Evothesis.Collector.BrowserTests.Support;

namespace Evothesis.Collector.BrowserTests.Pixel;

/// <summary>A site the collector does not know: its events are refused, stored nowhere, and its pages get no CORS grant.</summary>
public sealed class UnauthorizedOriginTests : BrowserTest
{
    [Test]
    public async Task PageOnUnlistedHost_SendsEvents_GetsNoCorsGrantAndNothingIsStored()
    {
        var site = BrowserTestEnvironment.Unlisted.BaseAddress;
        await ConfigurePixelAsync(new { flush_interval = 200, max_retries = 0 });

        await Page.GotoAsync(new Uri(site, "/index.html").ToString());
        var sessionId = await WaitForPixelAsync();
        await Page.ClickAsync("#faq-returns summary");
        await Page.EvaluateAsync("() => evothesis.flush()");

        var calls = await Traffic.WaitForAsync(c => c.Count >= 1 && c.All(call => call.Failure is not null), "the browser to report the requests failed");
        calls.Should().OnlyContain(c => new Uri(c.Request.Url).Host == "127.0.0.1", "the pixel sends to the collector's own host");
        var origin = site.GetLeftPart(UriPartial.Authority);
        var received = Host.Received.All.Where(r => r.Origin == origin).ToList();
        received.Should().HaveCount(calls.Count, "each request reached the collector");
        received.Should().OnlyContain(r => r.Status == 403, "the collector refuses a domain no client owns");
        calls.Should().OnlyContain(
            c => c.ResponseHeaders == null || !c.ResponseHeaders.ContainsKey("access-control-allow-origin"),
            "an unauthorized origin gets no CORS grant");
        ConsoleMessages.Should().Contain(m => m.Contains("blocked by CORS policy", StringComparison.Ordinal), "the browser blocks the answer");
        await Page.WaitForFunctionAsync("() => evothesis.getStats().events_dropped >= 2");

        var everything = await Host.GetRecentEventsAsync();
        everything.Should().NotContain(e => (string?)e!["sessionId"] == sessionId, "nothing from the unauthorized site is stored");
        everything.Should().NotContain(e => (string?)e!["siteId"] == "127.0.0.2");
        Host.ReadStoredFiles().Should().NotContain(f => f.Contains(sessionId, StringComparison.Ordinal));
    }
}
