using System.Net;
using Evothesis.Collector.Tests.Support;

namespace Evothesis.Collector.Tests.Sample;

/// <summary>The sample's Prometheus endpoint: the collector's meter through OpenTelemetry at <c>/metrics</c>.</summary>
public sealed class SampleMetricsTests
{
    [Test]
    public async Task Metrics_AfterCollectCallsInDevelopment_ShowTheCollectorsInstruments()
    {
        using var app = new CollectorApplication();
        (await app.PostAsync(SampleHostObjectStorageTests.SeedSingleEvent)).StatusCode.Should().Be(HttpStatusCode.Accepted);
        (await app.PostAsync(SampleHostObjectStorageTests.SeedBatch)).StatusCode.Should().Be(HttpStatusCode.Accepted);
        (await app.PostAsync("""{"eventType":"pageview","siteId":"evil.example"}""")).StatusCode.Should().Be(HttpStatusCode.Forbidden);

        using var response = await app.CreateClient().GetAsync(new Uri("/metrics", UriKind.Relative));
        var text = await response.Content.ReadAsStringAsync();

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        response.Content.Headers.ContentType!.MediaType.Should().BeOneOf("text/plain", "application/openmetrics-text");
        Sample(text, "evothesis_collector_events_accepted_total").Should().Be(3);
        Sample(text, "evothesis_collector_events_received_total").Should().Be(4);
        text.Should().Contain("evothesis_collector_requests_refused_total{").And.Contain("reason=\"domain_not_authorized\"");
        text.Should().Contain("evothesis_collector_spool_consumer_lag_bytes{");
    }

    [Test]
    public async Task Metrics_TurnedOff_IsNotMapped()
    {
        using var app = new CollectorApplication().WithSetting("Sample:Metrics:Enabled", "false");

        using var response = await app.CreateClient().GetAsync(new Uri("/metrics", UriKind.Relative));

        response.StatusCode.Should().Be(HttpStatusCode.NotFound);
    }

    // The value of the first sample of a counter without labels other than the scope's (otel_scope_name).
    private static double Sample(string exposition, string name)
    {
        var line = exposition.Split('\n').FirstOrDefault(l => l.StartsWith(name + "{", StringComparison.Ordinal) || l.StartsWith(name + " ", StringComparison.Ordinal))
            ?? throw new AssertionException($"{name} is not in the exposition:\n{exposition}");
        var value = line[(line.Contains('}', StringComparison.Ordinal) ? line.LastIndexOf('}') + 1 : name.Length)..].Trim().Split(' ')[0];
        return double.Parse(value, System.Globalization.CultureInfo.InvariantCulture);
    }
}
