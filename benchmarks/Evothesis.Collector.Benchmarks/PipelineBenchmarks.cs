using System.Globalization;
using System.IO.Compression;
using System.Net;
using System.Text;
using BenchmarkDotNet.Attributes;
using Evothesis.Collector.Batching;
using Evothesis.Collector.Events;
using Evothesis.Collector.Ingestion;
using Evothesis.Collector.Audit;
using Evothesis.Collector.Sinks;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Evothesis.Collector.Benchmarks;

/// <summary>
/// The whole request path through the entry point the ASP.NET Core adapter uses (<see cref="CollectorPipeline.ProcessAsync"/>):
/// read the body (gzip included), parse, authorize from the clients file's cache, apply the client's privacy rules (IP
/// hashing for the gdpr client, redaction of personal data), encode the record and append it to the write-ahead spool
/// (<see cref="AckMode.Enqueued"/>), answer. Per request; divide by <see cref="Events"/> for the cost per event.
/// </summary>
/// <remarks>
/// Sixteen warm-up iterations of 250 ms: tiered compilation is done before the measured ones. The sinks hold their first
/// batch forever, so their consumers (which run on threads of their own in a collector)
/// neither take CPU from the measured thread nor add their allocations to the count (the allocation count is the
/// process's). The spool is on <c>/dev/shm</c> when it exists: the spool writer's fsyncs run on its own thread either
/// way, and a memory file system keeps the benchmark from filling the disk. The gdpr client's requests carry an audit
/// record, so they are answered once the spool has them durably, as in a collector.
/// </remarks>
[MemoryDiagnoser]
[WarmupCount(16)]
[IterationCount(10)]
[IterationTime(250)]
public class PipelineBenchmarks
{
    private const string StandardSite = "shop.standard.example";
    private const string GdprSite = "shop.gdpr.example";

    private ServiceProvider? _services;
    private CollectorPipeline _pipeline = null!;
    private string _folder = "";
    private byte[] _body = [];
    private string _origin = "";
    private bool _gzip;

    /// <summary>Gets or sets the request's shape.</summary>
    [Params("Single", "Batch10", "Batch100", "Batch10Gzip")]
    public string Body { get; set; } = "Single";

    /// <summary>Gets or sets the client's privacy level: standard keeps the IP, gdpr hashes it and audits.</summary>
    [Params("standard", "gdpr")]
    public string Client { get; set; } = "standard";

    /// <summary>Gets or sets whether the events carry personal data for redaction (an email, a phone number, a form value).</summary>
    [Params(false, true)]
    public bool Pii { get; set; }

    /// <summary>Gets the number of events in a request.</summary>
    public int Events => Body switch
    {
        "Single" => 1,
        "Batch100" => 100,
        _ => 10,
    };

    [GlobalSetup]
    public void Setup()
    {
        var root = Directory.Exists("/dev/shm") ? "/dev/shm" : Path.GetTempPath();
        _folder = Path.Combine(root, "evothesis-pipeline-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(_folder);
        var clients = Path.Combine(_folder, "clients.json");
        File.WriteAllText(clients, $$"""
            {
              "{{StandardSite}}": {
                "client_id": "client_standard", "privacy_level": "standard",
                "ip_collection": { "enabled": true, "hash_required": false },
                "consent": { "required": false, "default_behavior": "opt_in" }
              },
              "{{GdprSite}}": {
                "client_id": "client_gdpr", "privacy_level": "gdpr",
                "ip_collection": { "enabled": true, "hash_required": true, "salt": "benchmark-salt-4c1d9e7a2b" },
                "consent": { "required": false, "default_behavior": "opt_in" }
              }
            }
            """);

        var services = new ServiceCollection();
        services.AddLogging(logging => logging.SetMinimumLevel(LogLevel.Warning));
        services.AddEvothesisCollector(options =>
            {
                options.Authorization.ClientsFile = clients;
                options.Authorization.ReloadClientsFileOnChange = false;
                options.Storage.Path = Path.Combine(_folder, "storage");
                options.Batching.AckMode = AckMode.Enqueued;
                options.Spool.MaxBytes = 16L * 1024 * 1024 * 1024;
                options.Spool.MinFreeDiskBytes = 0;
            })
            .AddEventSink(new HoldingSink())
            .AddAuditSink(new HoldingAuditSink());
        _services = services.BuildServiceProvider();
        _pipeline = _services.GetRequiredService<CollectorPipeline>();

        _origin = "https://" + (Client == "gdpr" ? GdprSite : StandardSite);
        var json = Encoding.UTF8.GetBytes(Body switch
        {
            "Single" => SingleBody(Pii),
            "Batch100" => BatchBody(100, Pii),
            _ => BatchBody(10, Pii),
        });
        _gzip = Body == "Batch10Gzip";
        _body = _gzip ? Gzip(json) : json;

        // One request first: an answer other than 202 means the benchmark measures a refusal.
        var first = Post().AsTask().GetAwaiter().GetResult();
        if (first.StatusCode != 202)
        {
            throw new InvalidOperationException($"The pipeline answered {first.StatusCode}: {Encoding.UTF8.GetString(first.Body.Span)}");
        }
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        // The held sinks never finish: dispose without waiting for the consumers' drain budget.
        _services?.DisposeAsync().AsTask().Wait(TimeSpan.FromSeconds(1));
        try
        {
            Directory.Delete(_folder, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    [Benchmark]
    public ValueTask<CollectorResponse> Collect() => Post();

    private ValueTask<CollectorResponse> Post() => _pipeline.ProcessAsync(
        new CollectorRequest
        {
            Body = new MemoryStream(_body, writable: false),
            ContentLength = _body.Length,
            ContentType = "application/json",
            ContentEncoding = _gzip ? "gzip" : "",
            Origin = _origin,
            Referer = "",
            UserAgent = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0 Safari/537.36",
            RemoteIpAddress = IPAddress.Parse("203.0.113.7"),
            RequestId = "0HN8BENCH:00000001",
        },
        CancellationToken.None);

    // The load run's page view (benchmarks/load/post-single.lua), about 1 KB. Written with ' for ".
    internal static string SingleBody(bool pii) => (
        "{'eventType':'pageview','eventId':'019a0c5e-3f1b-7c2d-9e8f-0a1b2c3d4e5f','sessionId':'sess_load'," +
        "'timestamp':'2026-11-26T11:59:58.000Z','sentAt':'2026-11-26T12:00:00Z'," +
        (pii
            ? "'page_data':{'url':'https://shop.example/contact.html?email=jane.doe@example.com&ref=mail','title':'Contact'," +
              "'referrer':'https://www.google.com/search?q=running+shoes','language':'en-US','screen':'1920x1080'," +
              "'viewport':'1280x720','timezone':'Europe/Berlin'}," +
              "'event_data':{'load_time_ms':412,'dom_ready_ms':188,'note':'call me at +1 415 555 0100'," +
              "'formData':{'name':'Jane Doe','email':'jane.doe@example.com'},'items_viewed':['sku-1001','sku-1002','sku-1003']," +
              "'campaign':{'source':'newsletter','medium':'email','name':'winter-sale-2026'}},"
            : "'page_data':{'url':'https://shop.example/products.html?category=shoes&sort=price','title':'Products - Shoes'," +
              "'referrer':'https://www.google.com/search?q=running+shoes','language':'en-US','screen':'1920x1080'," +
              "'viewport':'1280x720','timezone':'Europe/Berlin'}," +
              "'event_data':{'load_time_ms':412,'dom_ready_ms':188,'first_paint_ms':240,'scroll_depth':0," +
              "'experiment':'checkout-v2','variant':'b','items_viewed':['sku-1001','sku-1002','sku-1003','sku-1004']," +
              "'category_path':'Home > Sports > Running > Shoes','campaign':{'source':'newsletter','medium':'email'," +
              "'name':'winter-sale-2026','content':'hero-banner','term':'running shoes'}},") +
        "'consent':{'analytics':true,'marketing':false},'visitorId':'v_load_0001','appVersion':'4.18.2'," +
        "'device':{'type':'desktop','os':'Linux','browser':'Chromium','browser_version':'156.0'}," +
        "'padding':'" + new string('x', 180) + "'}").Replace('\'', '"');

    // The load run's batch of clicks (benchmarks/load/post-batch-ids.lua), each with its own UUIDv7 eventId; with
    // personal data, every other event carries an email in its URL or a phone number in its text.
    internal static string BatchBody(int count, bool pii)
    {
        var body = new StringBuilder("{'eventType':'batch','sessionId':'sess_load','sentAt':'2026-11-26T12:00:00Z','visitorId':'v_load','events':[");
        for (var i = 0; i < count; i++)
        {
            if (i > 0)
            {
                body.Append(',');
            }

            var text = pii && i % 2 == 1 ? "Call +1 415 555 0100" : "Add to cart";
            var url = pii && i % 2 == 0 ? "https://shop.example/products.html?category=shoes&email=jane.doe@example.com" : "https://shop.example/products.html?category=shoes";
            body.Append(CultureInfo.InvariantCulture, $"{{'eventType':'click','eventId':'019a0c5e-3f1b-7c2d-9e8f-{i:x12}',");
            body.Append(CultureInfo.InvariantCulture, $"'timestamp':'2026-11-26T11:59:5{i % 10}.000Z',");
            body.Append(CultureInfo.InvariantCulture, $"'event_data':{{'element':'button#add-to-cart','x':{i * 7},'y':{i * 3},'text':'{text}'}},");
            body.Append(CultureInfo.InvariantCulture, $"'page_data':{{'url':'{url}','title':'Products'}}}}");
        }

        return body.Append("]}").Replace('\'', '"').ToString();
    }

    private static byte[] Gzip(byte[] data)
    {
        using var output = new MemoryStream();
        using (var gzip = new GZipStream(output, CompressionLevel.Optimal))
        {
            gzip.Write(data);
        }

        return output.ToArray();
    }

    // Takes the consumer's first batch and never finishes it: the consumer stops reading, so none of its work runs
    // while the request path is measured.
    private sealed class HoldingSink : IEventSink
    {
        public string Name => "held";

        public async ValueTask WriteAsync(EventBatch batch, CancellationToken cancellationToken) =>
            await Task.Delay(Timeout.Infinite, cancellationToken).ConfigureAwait(false);
    }

    private sealed class HoldingAuditSink : IAuditSink
    {
        public string Name => "held-audit";

        public async ValueTask WriteAsync(IReadOnlyList<AuditRecord> records, CancellationToken cancellationToken) =>
            await Task.Delay(Timeout.Infinite, cancellationToken).ConfigureAwait(false);
    }
}
