using Evothesis.Collector.BrowserTests.Support;
using Microsoft.Playwright;

namespace Evothesis.Collector.BrowserTests.Pixel;

/// <summary>How the pixel gets its events to the collector: sendBeacon when the page goes away, retries when the collector cannot take them.</summary>
public sealed class PixelDeliveryTests : BrowserTest
{
    [Test]
    public async Task NavigateAway_WithQueuedEvents_FlushesThemWithSendBeacon()
    {
        // Nothing is sent on a timer during the test: only leaving the page can send the queue.
        await ConfigurePixelAsync(new { flush_interval = 600_000, batch_size = 50 });
        await Page.GotoAsync("/");
        var sessionId = await WaitForPixelAsync();
        await Page.EvaluateAsync("() => { for (let i = 1; i <= 3; i++) evothesis.track('before_leave', { n: i }); }");
        (await Page.EvaluateAsync<int>("() => evothesis.getStats().events_queued")).Should().Be(4, "the pageview and three events wait");
        Traffic.Calls.Should().BeEmpty();

        await Page.ClickAsync("#nav-shop");
        await Page.WaitForURLAsync("**/products.html");

        // The browser does not report requests of a page it has left: the collector's socket sees them.
        var beacon = await Host.Received.WaitForAsync(
            r => r.Body.Contains(sessionId, StringComparison.Ordinal) && r.Body.Contains("before_leave", StringComparison.Ordinal),
            "the queued events to be sent as the page unloads");
        beacon.SecFetchMode.Should().Be("no-cors", "navigator.sendBeacon sent it (the pixel's fetch batches are cors-mode)");
        beacon.ContentType.Should().Be("text/plain;charset=UTF-8");
        beacon.Status.Should().Be(202);
        SampleHost.Parse(beacon.Body)["events"]!.AsArray().Select(e => (string?)e!["eventType"])
            .Should().Equal(["pageview", "before_leave", "before_leave", "before_leave", "click"], "the click on the link, just before the unload, goes too");

        var stored = await Host.WaitForSessionEventsAsync(
            sessionId, events => events.Count(e => (string?)e["eventType"] == "before_leave") == 3, "the beaconed events to be stored");
        stored.Where(e => (string?)e["eventType"] == "before_leave").Select(e => (int)e["event_data"]!["n"]!).Should().BeEquivalentTo([1, 2, 3]);
        stored.Should().OnlyContain(e => (string?)e["client_id"] == "client_test");
        var indexPageview = stored.Single(e => (string?)e["eventType"] == "pageview" && (string?)e["page_data"]!["path"] == "/");
        ((string?)indexPageview["sessionId"]).Should().Be(sessionId);
        (await Page.EvaluateAsync<string>("() => evothesis.getSessionId()")).Should().Be(sessionId, "the session is per tab, across pages");
    }

    [Test]
    public async Task Collector503_WithRetryAfter_PixelResendsTheSameEventsAfterTheDelay()
    {
        await ConfigurePixelAsync(new { flush_interval = 200 });
        var refused = 0;
        await Page.RouteAsync("**/collect", async route =>
        {
            if (Interlocked.Increment(ref refused) == 1)
            {
                await route.FulfillAsync(new RouteFulfillOptions
                {
                    Status = 503,
                    Headers = new Dictionary<string, string> { ["Retry-After"] = "1" },
                    ContentType = "application/problem+json",
                    Body = "{\"title\":\"The collector is busy\",\"status\":503}",
                });
            }
            else
            {
                await route.ContinueAsync();
            }
        });

        await Page.GotoAsync("/");
        var sessionId = await WaitForPixelAsync();

        var calls = await Traffic.WaitForAsync(c => c.Count >= 1 && c[0].Status is not null, "the first attempt");
        calls[0].Status.Should().Be(503);
        // Tracked while the first batch waits for its retry: it follows once the retry went through.
        await Page.EvaluateAsync("() => evothesis.track('during_backoff')");

        calls = await Traffic.WaitForAsync(
            c => c.Count >= 3 && c.All(call => call.Status is not null), "the retry and the next batch");
        var first = calls[0];
        var retry = calls[1];
        retry.Status.Should().Be(202);
        IdsOf(retry).Should().Equal(IdsOf(first), "a retry resends the same events, with their eventIds");
        (retry.SentAt - first.SentAt).Should().BeGreaterThanOrEqualTo(TimeSpan.FromMilliseconds(900), "Retry-After: 1 is respected");
        calls[2].Events.Select(e => (string?)e["eventType"]).Should().Equal("during_backoff");
        (await Page.EvaluateAsync<int>("() => evothesis.getStats().retries")).Should().Be(1);

        var sentIds = calls.Skip(1).SelectMany(IdsOf).ToList();
        var stored = await Host.WaitForSessionEventsAsync(
            sessionId, events => events.Any(e => (string?)e["eventType"] == "during_backoff"), "the retried and the later events to be stored");
        stored.Select(e => (string?)e["eventId"]).Should().BeEquivalentTo(sentIds, "each event is stored once");
    }

    [Test]
    public async Task CollectorRejectsAMember_PixelCountsItAndNeverResendsIt()
    {
        await ConfigurePixelAsync(new { flush_interval = 200 });
        var answered = 0;
        await Page.RouteAsync("**/collect", async route =>
        {
            if (Interlocked.Increment(ref answered) == 1)
            {
                // As the collector answers when its privacy rules drop a member: 202, the member listed as rejected.
                var count = SampleHost.Parse(route.Request.PostData!)["events"]!.AsArray().Count;
                await route.FulfillAsync(new RouteFulfillOptions
                {
                    Status = 202,
                    ContentType = "application/json",
                    Body = $"{{\"accepted\":{count - 1},\"rejected\":[{{\"index\":0,\"reason\":\"consent\"}}]}}",
                });
            }
            else
            {
                await route.ContinueAsync();
            }
        });

        await Page.GotoAsync("/");
        await WaitForPixelAsync();
        var first = (await Traffic.WaitForAsync(c => c.Count == 1 && c[0].Status == 202, "the first batch to be answered"))[0];
        var rejectedId = (string?)first.Events[0]["eventId"];

        await Page.EvaluateAsync("() => { evothesis.track('after_rejection'); return evothesis.flush(); }");

        var calls = await Traffic.WaitForAsync(c => c.Count == 2 && c[1].Status is not null, "the next batch");
        calls[1].Events.Select(e => (string?)e["eventType"]).Should().Equal(["after_rejection"], "a rejected member is final");
        calls.SelectMany(c => c.Events).Count(e => (string?)e["eventId"] == rejectedId).Should().Be(1);
        var stats = await Page.EvaluateAsync<System.Text.Json.JsonElement>("() => evothesis.getStats()");
        stats.GetProperty("events_rejected").GetInt32().Should().Be(1);
        stats.GetProperty("retries").GetInt32().Should().Be(0);
        stats.GetProperty("events_queued").GetInt32().Should().Be(0);
        ConsoleMessages.Should().Contain("warning: [Evothesis] The collector rejected 1 event(s): consent.");
    }

    private static List<string?> IdsOf(CollectCall call) => call.Events.Select(e => (string?)e["eventId"]).ToList();
}
