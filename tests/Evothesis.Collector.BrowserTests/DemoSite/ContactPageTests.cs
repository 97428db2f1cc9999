using System.Text.Json.Nodes;
using Evothesis.Collector.BrowserTests.Support;

namespace Evothesis.Collector.BrowserTests.DemoSite;

/// <summary><c>contact.html</c>, the privacy showcase: form events carry field names, never what was typed.</summary>
public sealed class ContactPageTests : BrowserTest
{
    // Distinctive values, so any trace of them in a body or a stored event is found.
    private static readonly string[] Typed =
    [
        "Zebulon Quartermaine",
        "zq.7431@mailbox.example",
        "+1 555 013 7431",
        "Meet me at the north col at dawn, code word heliotrope",
    ];

    private static readonly string[] Fragments = ["Zebulon", "Quartermaine", "zq.7431", "mailbox.example", "013 7431", "heliotrope", "north col"];

    [Test]
    public async Task SubmitContactForm_WithTypedValues_SendsFieldNamesAndNoValueReachesRequestsOrStorage()
    {
        await ConfigurePixelAsync(new { flush_interval = 300 });
        await Page.GotoAsync("/contact.html");
        var sessionId = await WaitForPixelAsync();

        await Page.FillAsync("#name", Typed[0]);
        await Page.FillAsync("#email", Typed[1]);
        await Page.FillAsync("#phone", Typed[2]);
        await Page.FocusAsync("#topic");
        await Page.SelectOptionAsync("#topic", "repairs");
        await Page.FillAsync("#message", Typed[3]);
        await Page.ClickAsync("#send");
        await Page.WaitForSelectorAsync("#payload:not([hidden])");

        // pageview, form_focus for name/email/phone/topic/message, the click on Send, form_submit.
        await WaitForPixelIdleAsync(8);
        var sent = Traffic.SentEvents;
        var submit = sent.Single(e => (string?)e["eventType"] == "form_submit");
        ((string?)submit["event_data"]!["form_name"]).Should().Be("contact");
        Strings(submit["event_data"]!["field_names"]).Should().Equal("name", "email", "phone", "topic", "message", "reply_ok");
        ((int)submit["event_data"]!["field_count"]!).Should().Be(6);
        sent.Where(e => (string?)e["eventType"] == "form_focus").Select(e => (string?)e["event_data"]!["field_name"])
            .Should().Equal("name", "email", "phone", "topic", "message");

        var bodies = Traffic.Calls.Select(c => c.Body).ToList();
        bodies.Should().NotBeEmpty();
        foreach (var fragment in Fragments)
        {
            bodies.Should().NotContain(b => b.Contains(fragment, StringComparison.OrdinalIgnoreCase), $"'{fragment}' was typed, and values never leave the browser");
        }

        bodies.Should().NotContain(b => b.Contains("\"repairs\"", StringComparison.Ordinal), "the chosen option is a value too");

        var stored = await Host.WaitForSessionEventsAsync(
            sessionId, events => events.Any(e => (string?)e["eventType"] == "form_submit"), "the form_submit event to be stored");
        var storedSubmit = stored.Single(e => (string?)e["eventType"] == "form_submit");
        ((string?)storedSubmit["client_id"]).Should().Be("client_test");
        Strings(storedSubmit["event_data"]!["field_names"]).Should().Contain(["name", "email", "phone", "message"]);

        var storedText = string.Join('\n', stored.Select(e => e.ToJsonString())) + string.Join('\n', Host.ReadStoredFiles());
        foreach (var fragment in Fragments)
        {
            storedText.Should().NotContainEquivalentOf(fragment, "stored events (recent events and event files) hold no typed value");
        }

        (await Page.TextContentAsync("#payload")).Should().Contain("form_submit").And.NotContain("Zebulon");
        await Page.EvaluateAsync("() => window.scrollTo(0, 0)");
        await ScreenshotAsync("contact", "contact.html after submitting: the form_submit payload shows field names only");
    }

    private static IEnumerable<string?> Strings(JsonNode? array) => array!.AsArray().Select(n => (string?)n);
}
