using System.Text.Json.Nodes;
using Evothesis.Collector.BrowserTests.Support;

namespace Evothesis.Collector.BrowserTests.DemoSite;

/// <summary><c>products.html</c>: cart events and a purchase whose order fields are stored intact.</summary>
public sealed class ProductsPageTests : BrowserTest
{
    [Test]
    public async Task Checkout_WithThreeProducts_StoresPurchaseWithOrderFieldsIntact()
    {
        await ConfigurePixelAsync(new { flush_interval = 300 });
        await Page.GotoAsync("/products.html");
        var sessionId = await WaitForPixelAsync();

        await Page.ClickAsync("#add-SKU-PACK-45");
        await Page.ClickAsync("#add-SKU-LAMP-400");
        await Page.ClickAsync("#add-SKU-LAMP-400");
        await Page.ClickAsync("#add-SKU-COMPASS");
        await Page.ClickAsync("#checkout");
        var orderId = await Page.TextContentAsync("#order-id");

        var calls = await Traffic.WaitForAsync(
            c => c.SelectMany(call => call.Events).Any(e => (string?)e["eventType"] == "purchase") && c.All(call => call.Status is not null),
            "the purchase to be sent and answered");
        var sentPurchase = calls.SelectMany(c => c.Events).Single(e => (string?)e["eventType"] == "purchase");
        var order = sentPurchase["event_data"]!.AsObject();
        ((string?)order["order_id"]).Should().Be(orderId).And.MatchRegex("^ORD-[0-9]{8}-[0-9]{5}$");
        ((decimal)order["value"]!).Should().Be(189.00m + (2 * 49.99m) + 34.50m, "the order is over $100: shipping is free");
        ((string?)order["currency"]).Should().Be("USD");
        var items = order["items"]!.AsArray();
        items.Select(i => ((string?)i!["product_id"], (int)i["quantity"]!, (decimal)i["price"]!)).Should().Equal(
            ("SKU-PACK-45", 1, 189.00m), ("SKU-LAMP-400", 2, 49.99m), ("SKU-COMPASS", 1, 34.50m));

        var stored = await Host.WaitForSessionEventsAsync(
            sessionId, events => events.Any(e => (string?)e["eventType"] == "purchase"), "the purchase to be stored");
        var storedPurchase = stored.Single(e => (string?)e["eventType"] == "purchase");
        ((string?)storedPurchase["client_id"]).Should().Be("client_test");
        ((string?)storedPurchase["eventId"]).Should().Be((string?)sentPurchase["eventId"]);
        JsonNode.DeepEquals(storedPurchase["event_data"], order).Should().BeTrue(
            $"the stored order must equal the sent one; sent {order.ToJsonString()}, stored {storedPurchase["event_data"]?.ToJsonString()}");
        stored.Select(e => (string?)e["eventType"]).Should().Contain(["add_to_cart", "begin_checkout"]);
        stored.Count(e => (string?)e["eventType"] == "add_to_cart").Should().Be(4);

        await Page.EvaluateAsync("() => window.scrollTo(0, 0)");
        await ScreenshotAsync("products", "products.html after checkout: the order confirmation");
    }
}
