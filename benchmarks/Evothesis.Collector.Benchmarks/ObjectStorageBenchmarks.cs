using BenchmarkDotNet.Attributes;
using Evothesis.Collector.Events;
using Evothesis.Collector.Sinks.ObjectStorage;
using Evothesis.Collector.Sinks.S3;
using Evothesis.Collector.Tests.Support;
using Microsoft.Extensions.Logging.Abstractions;

namespace Evothesis.Collector.Benchmarks;

/// <summary>
/// The cost of writing one 500-event batch (two clients) as gzip NDJSON: encoding alone, to the local folder,
/// to the client bucket, and to the client and backup buckets together as the collector does (in parallel).
/// The buckets are on s3rver on loopback, so the S3 figures are protocol and encoding cost, not network.
/// Needs Node.js and build/s3rver (./test.sh or build/prerequisites.sh installs them).
/// </summary>
[MemoryDiagnoser]
public class ObjectStorageBenchmarks
{
    private S3TestServer _server = null!;
    private EventBatch _batch = null!;
    private ObjectStorageEventSink _local = null!;
    private ObjectStorageEventSink _client = null!;
    private ObjectStorageEventSink _backup = null!;
    private string _folder = null!;

    [GlobalSetup]
    public void Setup()
    {
        _server = S3TestServer.StartAsync().GetAwaiter().GetResult();
        var clientBucket = _server.CreateBucketAsync("client").GetAwaiter().GetResult();
        var backupBucket = _server.CreateBucketAsync("backup").GetAwaiter().GetResult();
        var s3 = _server.CreateClient();
        var options = new S3Options();
        _client = Sink(new S3ObjectStore(s3, clientBucket, options, NullLogger.Instance), options.MaxConcurrentUploads);
        _backup = Sink(new S3ObjectStore(s3, backupBucket, options, NullLogger.Instance), options.MaxConcurrentUploads);
        _folder = Directory.CreateTempSubdirectory("evothesis-bench-").FullName;
        _local = Sink(new LocalFolderObjectStore(_folder), 1);

        var now = new DateTimeOffset(2026, 11, 26, 12, 0, 0, TimeSpan.Zero);
        var events = new CollectedEvent[500];
        for (var i = 0; i < events.Length; i++)
        {
            events[i] = new CollectedEvent
            {
                Id = Guid.CreateVersion7(now),
                EventId = "e-" + i,
                EventType = i % 10 == 0 ? "pageview" : "click",
                ClientId = i % 2 == 0 ? "client_acme_corp" : "client_test",
                SiteId = i % 2 == 0 ? "shop.acme.com" : "localhost",
                SessionId = "sess_" + (i / 20),
                Timestamp = now.AddMilliseconds(-i),
                ClientTimestamp = "2026-11-26T11:59:58.123Z",
                ReceivedAt = now,
                PageData = RawJson.Parse($$"""{"url":"https://shop.acme.com/p/{{i}}?q=shoes&page=2","title":"Product {{i}}","referrer":"https://www.google.com/"}"""),
                EventData = RawJson.Parse($$"""{"element":"button#add-to-cart-{{i}}","x":{{i * 7}},"y":{{i * 3}},"text":"Add to cart"}"""),
                CustomData = RawJson.Parse("""{"visitorId":"v_19ab"}"""),
                Ip = "2f1c0a7e9b3d4c5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6",
                UserAgent = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36",
            };
        }

        _batch = new EventBatch(Guid.CreateVersion7(now), now, events);

        using var encoded = ObjectStorageEventSink.Encode(events);
        var raw = events.Sum(e => System.Text.Encoding.UTF8.GetByteCount(Line(e)));
        Console.WriteLine($"// 500 events: {raw} bytes of NDJSON, {encoded.Length} bytes gzip ({raw / 500.0:F0} -> {encoded.Length / 500.0:F0} bytes per event)");
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _server.DisposeAsync().AsTask().GetAwaiter().GetResult();
        Directory.Delete(_folder, recursive: true);
    }

    [Benchmark(Baseline = true)]
    public long Encode()
    {
        using var encoded = ObjectStorageEventSink.Encode(_batch.Events);
        return encoded.Length;
    }

    [Benchmark]
    public ValueTask LocalFolder() => _local.WriteAsync(_batch, CancellationToken.None);

    [Benchmark]
    public ValueTask ClientBucket() => _client.WriteAsync(_batch, CancellationToken.None);

    [Benchmark]
    public Task ClientAndBackupBuckets() =>
        Task.WhenAll(_client.WriteAsync(_batch, CancellationToken.None).AsTask(), _backup.WriteAsync(_batch, CancellationToken.None).AsTask());

    private static ObjectStorageEventSink Sink(IObjectStore store, int concurrency) =>
        new(store, prefix: null, name: null, dedicatedStores: null, warnAboutDedicatedBuckets: false, concurrency, metrics: null, NullLogger.Instance);

    private static string Line(CollectedEvent e)
    {
        using var buffer = new MemoryStream();
        using (var writer = new System.Text.Json.Utf8JsonWriter(buffer))
        {
            Evothesis.Collector.Events.Internal.CollectedEventJson.Write(writer, e);
        }

        return System.Text.Encoding.UTF8.GetString(buffer.ToArray()) + "\n";
    }
}
