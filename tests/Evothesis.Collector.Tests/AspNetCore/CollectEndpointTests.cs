using System.IO.Compression;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Evothesis.Collector.Ingestion;
using Evothesis.Collector.Sinks;
using Evothesis.Collector.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;

namespace Evothesis.Collector.Tests.AspNetCore;

/// <summary>The sample host end to end: POST /collect, GET /events/recent, files on disk.</summary>
public class CollectEndpointTests
{
    // The README's curl examples, as written.
    private const string SeedSingleEvent = """
        {
            "eventType": "pageview",
            "sessionId": "test_session",
            "visitorId": "test_visitor",
            "siteId": "localhost",
            "url": "http://localhost/test"
          }
        """;

    private const string SeedBatch = """
        {
            "eventType": "batch",
            "sessionId": "test_session",
            "siteId": "localhost",
            "events": [
              {"eventType": "click", "eventData": {"element": "test1"}},
              {"eventType": "scroll", "eventData": {"depth": 50}}
            ]
          }
        """;

    private CollectorApplication _app = null!;

    [SetUp]
    public void SetUp() => _app = new CollectorApplication();

    [TearDown]
    public void TearDown() => _app.Dispose();

    [Test]
    public async Task Post_SeedSingleEvent_IsAcceptedStoredAndAttributed()
    {
        var response = await _app.PostAsync(SeedSingleEvent);

        response.StatusCode.Should().Be(HttpStatusCode.Accepted);
        (await response.Content.ReadAsStringAsync()).Should().Be("""{"accepted":1,"rejected":[]}""");
        var stored = (await Recent()).Should().ContainSingle().Subject;
        stored.GetProperty("eventType").GetString().Should().Be("pageview");
        stored.GetProperty("client_id").GetString().Should().Be("client_test");
        stored.GetProperty("siteId").GetString().Should().Be("localhost");
        stored.GetProperty("sessionId").GetString().Should().Be("test_session");
        stored.GetProperty("custom_data").GetProperty("visitorId").GetString().Should().Be("test_visitor");
        stored.GetProperty("custom_data").GetProperty("url").GetString().Should().Be("http://localhost/test");
        _app.Storage.Files("*.ndjson.gz").Should().ContainSingle().Which.Should().Contain("client_id=client_test");
    }

    [Test]
    public async Task Post_SeedBatch_StoresEveryEventAndLogsTheSeedLines()
    {
        _app.WithServices(services => services.AddFakeLogging());

        var response = await _app.PostAsync(SeedBatch);

        response.StatusCode.Should().Be(HttpStatusCode.Accepted);
        (await response.Content.ReadAsStringAsync()).Should().Be("""{"accepted":2,"rejected":[]}""");
        var recent = await Recent();
        recent.Select(e => e.GetProperty("eventType").GetString()).Should().BeEquivalentTo("click", "scroll");
        recent.Should().AllSatisfy(e => e.GetProperty("client_id").GetString().Should().Be("client_test"));
        recent.Single(e => e.GetProperty("eventType").GetString() == "scroll").GetProperty("event_data").GetProperty("depth").GetInt32().Should().Be(50);

        var messages = _app.Services.GetRequiredService<FakeLogCollector>().GetSnapshot().Select(r => r.Message).ToList();
        messages.Should().Contain("Processing batch with 2 individual events for client client_test");
        messages.Should().Contain("Bulk inserted 2 events for client client_test from site localhost");
    }

    [Test]
    public async Task Post_UnauthorizedSiteId_IsRefusedWith403AndNothingIsStored()
    {
        var response = await _app.PostAsync("""{"eventType":"pageview","siteId":"evil.example"}""");

        await ShouldBeProblem(response, HttpStatusCode.Forbidden, ProblemTypes.DomainNotAuthorized);
        (await Recent()).Should().BeEmpty();
        _app.Storage.Files().Should().BeEmpty();
    }

    [Test]
    public async Task Post_UnauthorizedOrigin_WinsOverAnAuthorizedSiteId()
    {
        var response = await _app.PostAsync("""{"eventType":"pageview","siteId":"localhost"}""", origin: "https://evil.example");

        await ShouldBeProblem(response, HttpStatusCode.Forbidden, ProblemTypes.DomainNotAuthorized);
        (await Recent()).Should().BeEmpty();
    }

    [Test]
    public async Task Post_AuthorizedOrigin_StoresTheOriginsDomainWhateverTheSiteIdSays()
    {
        var response = await _app.PostAsync("""{"eventType":"pageview","siteId":"other.example"}""", origin: "http://localhost:8000");

        response.StatusCode.Should().Be(HttpStatusCode.Accepted);
        var stored = (await Recent()).Single();
        stored.GetProperty("siteId").GetString().Should().Be("localhost");
        stored.GetProperty("client_id").GetString().Should().Be("client_test");
    }

    [Test]
    public async Task Post_BodySiteIdOfAnotherClientInTheBatch_IsRejectedNotMisattributed()
    {
        var response = await _app.PostAsync("""
            {"eventType":"batch","siteId":"localhost","events":[{"eventType":"a"},{"eventType":"b","siteId":"shop.acme.com"}]}
            """);

        response.StatusCode.Should().Be(HttpStatusCode.Accepted);
        (await response.Content.ReadAsStringAsync()).Should().Be("""{"accepted":1,"rejected":[{"index":1,"reason":"site_mismatch"}]}""");
        (await Recent()).Should().ContainSingle().Which.GetProperty("eventType").GetString().Should().Be("a");
    }

    [Test]
    public async Task Post_TwoMegabyteBody_IsRefusedWith413AndNothingIsStored()
    {
        var padding = new string('x', 2 * 1024 * 1024);
        var response = await _app.PostAsync($$$"""{"eventType":"pageview","siteId":"localhost","event_data":{"p":"{{{padding}}}"}}""");

        var problem = await ShouldBeProblem(response, HttpStatusCode.RequestEntityTooLarge, ProblemTypes.BodyTooLarge);
        problem.GetProperty("detail").GetString().Should().Contain("1048576");
        (await Recent()).Should().BeEmpty();
        _app.Storage.Files().Should().BeEmpty();
    }

    [TestCase("{not json", ProblemTypes.MalformedBody)]
    [TestCase("""{"siteId":"localhost"}""", ProblemTypes.InvalidEvent)]
    [TestCase("""{"eventType":"pageview"}""", ProblemTypes.SiteMissing)]
    public async Task Post_BadRequest_IsRefusedWith400Problem(string body, string type)
    {
        var response = await _app.PostAsync(body);

        var problem = await ShouldBeProblem(response, HttpStatusCode.BadRequest, type);
        problem.GetProperty("title").GetString().Should().NotBeNullOrEmpty();
        problem.GetProperty("detail").GetString().Should().NotBeNullOrEmpty();
        (await Recent()).Should().BeEmpty();
    }

    [Test]
    public async Task Post_PartialBatch_StoresTheGoodEventsAndListsTheRejectedOnes()
    {
        var response = await _app.PostAsync("""
            {"eventType":"batch","siteId":"localhost","events":[{"eventType":"a"},{"nope":1},{"eventType":"c","event_data":[1]}]}
            """);

        response.StatusCode.Should().Be(HttpStatusCode.Accepted);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        body.GetProperty("accepted").GetInt32().Should().Be(1);
        body.GetProperty("rejected").EnumerateArray().Select(r => (r.GetProperty("index").GetInt32(), r.GetProperty("reason").GetString()))
            .Should().Equal((1, "missing_event_type"), (2, "invalid_event_data"));
        (await Recent()).Should().ContainSingle();
    }

    [Test]
    public async Task Post_TextPlainBeacon_IsAccepted()
    {
        var response = await _app.PostAsync(SeedBatch, contentType: "text/plain;charset=UTF-8");

        response.StatusCode.Should().Be(HttpStatusCode.Accepted);
        (await Recent()).Should().HaveCount(2);
    }

    [Test]
    public async Task Post_GzipBody_IsAccepted()
    {
        using var compressed = new MemoryStream();
        await using (var gzip = new GZipStream(compressed, CompressionLevel.Fastest, leaveOpen: true))
        {
            await gzip.WriteAsync(Encoding.UTF8.GetBytes(SeedBatch));
        }

        var content = new ByteArrayContent(compressed.ToArray());
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        content.Headers.ContentEncoding.Add("gzip");
        var response = await _app.PostAsync(content);

        response.StatusCode.Should().Be(HttpStatusCode.Accepted);
        (await Recent()).Should().HaveCount(2);
    }

    [Test]
    public async Task Post_UnsupportedContentType_IsRefusedWith415()
    {
        var response = await _app.PostAsync("eventType=pageview", contentType: "application/x-www-form-urlencoded");

        await ShouldBeProblem(response, HttpStatusCode.UnsupportedMediaType, ProblemTypes.UnsupportedMediaType);
    }

    [Test]
    public async Task Post_SinkFailingInDurableMode_Answers202AndTheSinkGetsTheEventsOnceItRecovers()
    {
        var sink = new ThrowingEventSink();
        _app.WithServices(services => services.AddSingleton<IEventSink>(sink))
            .WithSetting("Evothesis:Batching:AckMode", "Durable")
            .WithSetting("Evothesis:Batching:RetryBaseDelay", "00:00:00.010")
            .WithSetting("Evothesis:Batching:RetryMaxDelay", "00:00:00.050");

        var response = await _app.PostAsync(SeedSingleEvent);

        response.StatusCode.Should().Be(HttpStatusCode.Accepted, "the events are in the spool: a sink outage is not the visitor's problem");
        var client = _app.CreateClient();
        var deadline = DateTime.UtcNow.AddSeconds(15);
        var health = string.Empty;
        while (health != "Degraded" && DateTime.UtcNow < deadline)
        {
            // The sink is tried after the answer, from the spool.
            health = await (await client.GetAsync("/health")).Content.ReadAsStringAsync();
            await Task.Delay(20);
        }

        health.Should().Be("Degraded");
        sink.Failing = false;
        while (sink.Written.Count == 0 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20);
        }

        sink.Written.Should().ContainSingle("the spool delivers it once the sink is back, and once only");
    }

    [Test]
    public async Task Post_SpoolFull_Answers503WithRetryAfter()
    {
        var sink = new BlockingEventSink();
        _app.WithServices(services => services.AddSingleton<IEventSink>(sink))
            .WithSetting("Evothesis:Batching:AckMode", "Durable")
            .WithSetting("Evothesis:Limits:MaxBodyBytes", "65536")
            .WithSetting("Evothesis:Limits:MaxEventsPerBatch", "10")
            .WithSetting("Evothesis:Spool:SegmentBytes", "1048576")
            .WithSetting("Evothesis:Spool:MaxBytes", "2097152")
            .WithSetting("Evothesis:Spool:MaxPendingBytes", "1048576")
            .WithSetting("Evothesis:Spool:MinFreeDiskBytes", "0");
        var client = _app.CreateClient();
        var blobs = string.Join(",", Enumerable.Range(0, 10).Select(i => $"\"b{i}\":\"{new string('b', 6000)}\""));
        var big = """{"eventType":"x","siteId":"localhost","event_data":{""" + blobs + "}}";

        HttpResponseMessage? refused = null;
        var accepted = 0;
        for (var i = 0; i < 100 && refused is null; i++)
        {
            var response = await _app.PostAsync(big, client: client);
            if (response.StatusCode == HttpStatusCode.Accepted)
            {
                accepted++;
            }
            else
            {
                refused = response;
            }
        }

        refused.Should().NotBeNull("a sink that never finishes fills the spool");
        await ShouldBeProblem(refused!, HttpStatusCode.ServiceUnavailable, ProblemTypes.QueueFull);
        refused!.Headers.RetryAfter.Should().NotBeNull();
        accepted.Should().BeGreaterThan(10);
        sink.Release();
    }

    [Test]
    public async Task Post_AckModeEnqueued_AnswersBeforeTheWrite()
    {
        var sink = new BlockingEventSink();
        _app.WithServices(services => services.AddSingleton<IEventSink>(sink))
            .WithSetting("Evothesis:Batching:AckMode", "Enqueued")
            .WithSetting("Evothesis:Batching:BatchSize", "1");

        var response = await _app.PostAsync(SeedSingleEvent);

        response.StatusCode.Should().Be(HttpStatusCode.Accepted);
        sink.Written.Should().BeEmpty("the write is still held back");
        sink.Release();
    }

    [Test]
    public async Task Post_RegisteredSink_ReplacesTheEmbeddedFileSink()
    {
        var sink = new InMemoryEventSink();
        _app.WithServices(services => services.AddSingleton<IEventSink>(sink));

        (await _app.PostAsync(SeedBatch)).StatusCode.Should().Be(HttpStatusCode.Accepted);

        sink.Events.Should().HaveCount(2);
        _app.Storage.Files().Should().BeEmpty();
    }

    [Test]
    public async Task RecentEvents_LimitAndClientFilter_AreApplied_NewestFirst()
    {
        for (var i = 0; i < 3; i++)
        {
            await _app.PostAsync($$"""{"eventType":"e{{i}}","siteId":"localhost"}""");
        }

        await _app.PostAsync("""{"eventType":"acme","siteId":"shop.acme.com"}""");

        (await Recent("?limit=2")).Select(e => e.GetProperty("eventType").GetString()).Should().Equal("acme", "e2");
        (await Recent("?client_id=client_test&limit=10")).Select(e => e.GetProperty("eventType").GetString()).Should().Equal("e2", "e1", "e0");
        (await Recent("?client_id=client_acme_corp")).Should().ContainSingle()
            .Which.GetProperty("client_id").GetString().Should().Be("client_acme_corp");
    }

    [TestCase("0")]
    [TestCase("1001")]
    [TestCase("ten")]
    public async Task RecentEvents_InvalidLimit_IsRefusedWith400(string limit)
    {
        var response = await _app.CreateClient().GetAsync($"/events/recent?limit={limit}");

        response.StatusCode.Should().Be(HttpStatusCode.BadRequest);
    }

    [Test]
    public async Task RecentEvents_StoredShape_UsesTheSeedNames()
    {
        await _app.PostAsync("""
            {"eventType":"batch","sessionId":"s1","siteId":"localhost","sentAt":"2026-11-26T12:00:00Z",
             "events":[{"eventType":"pageview","eventId":"e1","timestamp":"2026-11-26T11:59:58Z","consent":"granted",
                        "page_data":{"url":"https://localhost/p?q=1","title":"Catalog"}}]}
            """);

        var stored = (await Recent()).Single();
        stored.EnumerateObject().Select(p => p.Name).Should().Equal(
            "id", "eventId", "eventType", "client_id", "siteId", "sessionId", "timestamp", "client_timestamp",
            "received_at", "page_data", "event_data", "custom_data", "consent", "ip", "user_agent");
        stored.GetProperty("eventId").GetString().Should().Be("e1");
        stored.GetProperty("client_timestamp").GetString().Should().Be("2026-11-26T11:59:58Z");
        stored.GetProperty("page_data").GetProperty("title").GetString().Should().Be("Catalog");
        stored.GetProperty("consent").GetString().Should().Be("granted");
        Guid.Parse(stored.GetProperty("id").GetString()!).Version.Should().Be(7);

        // The client's clock said 12:00:00 when it sent; the event happened 2 s before sending.
        var receivedAt = stored.GetProperty("received_at").GetDateTimeOffset();
        stored.GetProperty("timestamp").GetDateTimeOffset().Should().Be(receivedAt.AddSeconds(-2));
    }

    [Test]
    public async Task Health_ReportsHealthyWhileEventsAreWritten()
    {
        await _app.PostAsync(SeedSingleEvent);

        var response = await _app.CreateClient().GetAsync("/health");

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        (await response.Content.ReadAsStringAsync()).Should().Be("Healthy");
    }

    [Test]
    public void Start_InvalidOptions_FailsWithTheKeyAndValue()
    {
        _app.WithSetting("Evothesis:Batching:BatchSize", "0")
            .WithSetting("Evothesis:Batching:AckTimeout", "00:20:00");

        var act = () => _app.CreateClient();

        act.Should().Throw<Microsoft.Extensions.Options.OptionsValidationException>()
            .Which.Message.Should().Contain("BatchSize").And.Contain("AckTimeout").And.Contain("00:20:00");
    }

    private async Task<List<JsonElement>> Recent(string query = "?limit=100")
    {
        var response = await _app.CreateClient().GetAsync("/events/recent" + query);
        response.StatusCode.Should().Be(HttpStatusCode.OK);
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).EnumerateArray().ToList();
    }

    private static async Task<JsonElement> ShouldBeProblem(HttpResponseMessage response, HttpStatusCode status, string type)
    {
        response.StatusCode.Should().Be(status);
        response.Content.Headers.ContentType!.MediaType.Should().Be("application/problem+json");
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        problem.GetProperty("type").GetString().Should().Be(type);
        problem.GetProperty("status").GetInt32().Should().Be((int)status);
        return problem;
    }
}
