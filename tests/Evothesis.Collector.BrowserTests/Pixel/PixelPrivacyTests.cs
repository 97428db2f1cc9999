using Evothesis.Collector.BrowserTests.Support;

namespace Evothesis.Collector.BrowserTests.Pixel;

/// <summary>What the pixel leaves out under stricter privacy modes, and how it honours a visitor's refusal.</summary>
public sealed class PixelPrivacyTests : BrowserTest
{
    private const string Query = "?utm_source=newsletter&utm_campaign=autumn&email=ada%40mail.example&token=abc123#access_token=xyz789";

    [TestCase("standard", null, true)]
    [TestCase("gdpr", "?utm_source=newsletter&utm_campaign=autumn", false)]
    [TestCase("hipaa", "", false)]
    public async Task PrivacyMode_PageUrlWithPersonalQuery_SendsOnlyWhatTheModeAllows(string mode, string? expectedQuery, bool clickText)
    {
        await ConfigurePixelAsync(new { privacy_mode = mode, flush_interval = 200 });
        await Page.GotoAsync("/" + Query);
        var sessionId = await WaitForPixelAsync();
        await Page.ClickAsync("#faq-returns summary");
        await WaitForPixelIdleAsync(2);

        var stored = await Host.WaitForSessionEventsAsync(sessionId, events => events.Count >= 2, "the pageview and the click to be stored");

        (await Page.EvaluateAsync<string>("() => EvothesisConfig.privacy_mode")).Should().Be(mode);
        if (mode == "standard")
        {
            // The pixel sends the page's query as it is; the collector redacts what is personal before storing it.
            Traffic.Calls.Select(c => c.Body).Should().Contain(b => b.Contains("mail.example", StringComparison.Ordinal));
            stored.Select(e => (string?)e["page_data"]!["url"]).Should().OnlyContain(url =>
                url!.StartsWith(Host.BaseAddress + "?utm_source=newsletter&utm_campaign=autumn&email=", StringComparison.Ordinal)
                && !url.Contains("mail.example", StringComparison.Ordinal)
                && !url.Contains("abc123", StringComparison.Ordinal)
                && !url.Contains("xyz789", StringComparison.Ordinal));
        }
        else
        {
            stored.Select(e => (string?)e["page_data"]!["url"]).Should().OnlyContain(url => url == Host.BaseAddress + expectedQuery);
        }

        var click = stored.Single(e => (string?)e["eventType"] == "click");
        (click["event_data"]!["text"] is not null).Should().Be(clickText, "element text is recorded in standard mode only");
        var pageview = stored.Single(e => (string?)e["eventType"] == "pageview");
        ((string?)pageview["event_data"]!["utm"]!["utm_campaign"]).Should().Be("autumn", "campaign parameters are not personal data");
        if (mode != "standard")
        {
            Traffic.Calls.Select(c => c.Body).Should().NotContain(b => b.Contains("mail.example", StringComparison.Ordinal) || b.Contains("abc123", StringComparison.Ordinal) || b.Contains("xyz789", StringComparison.Ordinal));
        }
    }

    [Test]
    public async Task PrivacyMode_LaxerThanTheClients_IsIgnored()
    {
        // client_acme_corp is a gdpr client: a page cannot lower that to standard.
        await Page.GotoAsync("/");
        await WaitForPixelAsync();

        var mode = await Page.EvaluateAsync<string>(@"() => new Promise((resolve, reject) => {
            window.EvothesisConfig = { privacy_mode: 'standard' };
            delete window.evothesis;
            const script = document.createElement('script');
            script.src = '/pixel/client_acme_corp/tracking.js';
            script.onload = () => resolve(window.EvothesisConfig.privacy_mode);
            script.onerror = reject;
            document.head.appendChild(script);
        })");

        mode.Should().Be("gdpr");
    }

    [Test]
    public async Task SetConsentFalse_StopsTrackingDropsTheQueueAndIsRemembered()
    {
        await ConfigurePixelAsync(new { flush_interval = 600_000 });
        await Page.GotoAsync("/");
        var sessionId = await WaitForPixelAsync();
        (await Page.EvaluateAsync<int>("() => evothesis.getStats().events_queued")).Should().Be(1, "the pageview waits");

        await Page.EvaluateAsync("() => evothesis.setConsent(false)");
        var id = await Page.EvaluateAsync<string?>("() => evothesis.track('after_refusal')");
        await Page.ClickAsync("#nav-shop");
        await Page.WaitForURLAsync("**/products.html");
        await WaitForPixelAsync();
        await Page.ClickAsync("#add-SKU-COMPASS");
        var queued = await Page.EvaluateAsync<int>("() => evothesis.getStats().events_queued");

        id.Should().BeNull("nothing is tracked after a refusal");
        queued.Should().Be(0, "the refusal holds on the next page too (localStorage)");
        ConsoleMessages.Should().Contain("log: [Evothesis] The visitor declined analytics: nothing is tracked.");

        // Consent given again: tracking resumes. Everything before it was dropped, even the beacon at unload.
        await Page.EvaluateAsync("() => { evothesis.setConsent(true); evothesis.track('after_consent'); return evothesis.flush(); }");
        var resumed = await Host.Received.WaitForAsync(r => r.Body.Contains("after_consent", StringComparison.Ordinal), "the events after consent");
        SampleHost.Parse(resumed.Body)["consent"]!.GetValue<string>().Should().Be("granted");
        var sessionBodies = Host.Received.All.Where(r => r.Body.Contains(sessionId, StringComparison.Ordinal)).Select(r => r.Body).ToList();
        sessionBodies.Should().NotContain(
            b => b.Contains("after_refusal", StringComparison.Ordinal) || b.Contains("add_to_cart", StringComparison.Ordinal) || b.Contains("\"pageview\"", StringComparison.Ordinal),
            "what was queued or done before consent was given again never reached the collector");
    }
}
