using System.IO.Compression;
using System.Text.Json;
using Evothesis.Collector.Diagnostics;
using Evothesis.Collector.Events;
using Evothesis.Collector.Sinks.ObjectStorage;
using Evothesis.Collector.Sinks.ObjectStorage.Internal;
using Evothesis.Collector.Tests.Support;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Logging.Testing;

namespace Evothesis.Collector.Tests.Sinks.ObjectStorage;

public class ObjectStorageEventSinkTests
{
    private TempDirectory _root = null!;
    private ObjectStorageEventSink _sink = null!;

    [SetUp]
    public void SetUp()
    {
        _root = new TempDirectory();
        _sink = new ObjectStorageEventSink(new LocalFolderObjectStore(_root.Path));
    }

    [TearDown]
    public void TearDown() => _root.Dispose();

    [Test]
    public async Task WriteAsync_WritesOneGzipNdjsonFilePerClient_UnderHivePartitions()
    {
        var batch = new EventBatch(
            Guid.Parse("01a21a0e-f849-79da-84b0-cf3a9c7e7c03"),
            new DateTimeOffset(2026, 11, 26, 9, 5, 7, TimeSpan.Zero),
            [TestEvents.Create(clientId: "client_test"), TestEvents.Create(clientId: "client_acme_corp"), TestEvents.Create(clientId: "client_test")]);

        await _sink.WriteAsync(batch, default);

        Relative(_root.Files()).Should().BeEquivalentTo(
            "client_id=client_test/date=2026-11-26/hour=09/20261126T090507Z-01a21a0ef84979da84b0cf3a9c7e7c03.ndjson.gz",
            "client_id=client_acme_corp/date=2026-11-26/hour=09/20261126T090507Z-01a21a0ef84979da84b0cf3a9c7e7c03.ndjson.gz");
        (await ReadLines(_root.Files().Single(f => f.Contains("client_id=client_test", StringComparison.Ordinal)))).Should().HaveCount(2);
    }

    [Test]
    public async Task WriteAsync_EveryLine_RoundTripsTheEventExactly()
    {
        var original = new CollectedEvent
        {
            Id = Guid.CreateVersion7(),
            EventId = "e-1",
            EventType = "purchase",
            ClientId = "client_acme_corp",
            SiteId = "shop.acme.com",
            SessionId = "s1",
            Timestamp = new DateTimeOffset(2026, 11, 26, 11, 59, 58, 123, TimeSpan.Zero).AddMicroseconds(456),
            ClientTimestamp = "2026-11-26T11:59:58.123456Z",
            ReceivedAt = new DateTimeOffset(2026, 11, 26, 12, 0, 0, 7, TimeSpan.Zero),
            PageData = RawJson.Parse("""{"url":"https://shop.acme.com/p?q=1","title":"Caf\u00e9 \"quoted\""}"""),
            EventData = RawJson.Parse("""{"order_id":"ORD-1","value":299.99,"items":[{"sku":"A","qty":2}],"gift":null}"""),
            CustomData = RawJson.Parse("""{"visitorId":"v1"}"""),
            Consent = RawJson.Parse("\"granted\""),
            Ip = "203.0.113.7",
            UserAgent = "Mozilla/5.0 (X11; Linux x86_64) ünïcode",
        };
        var sparse = TestEvents.Create();

        await _sink.WriteAsync(new EventBatch(Guid.CreateVersion7(), TestEvents.ReceivedAt, [original, sparse]), default);

        var files = _root.Files();
        files.Should().HaveCount(2);
        var read = new List<CollectedEvent>();
        foreach (var file in files)
        {
            await using var stream = File.OpenRead(file);
            await foreach (var e in ObjectStorageEventSink.DecodeAsync(stream))
            {
                read.Add(e);
            }
        }

        read.Should().BeEquivalentTo([original, sparse], options => options.ComparingByMembers<CollectedEvent>().Excluding(e => e.RequestIndex));
        read.Single(e => e.Id == original.Id).PageData.Should().Be(original.PageData);
    }

    [Test]
    public async Task Encode_PrettyPrintedPayloads_StayOneLinePerEvent()
    {
        var pretty = TestEvents.Create(eventData: "{\n  \"order_id\": \"ORD-1\",\r\n  \"note\": \"two\\nlines\",\n  \"items\": [\n 1,\n 2\n ]\n}");
        var plain = TestEvents.Create(eventData: """{"a":1}""");

        using var encoded = ObjectStorageEventSink.Encode([pretty, plain]);
        using var gzip = new GZipStream(encoded, CompressionMode.Decompress);
        using var reader = new StreamReader(gzip);
        var lines = (await reader.ReadToEndAsync()).TrimEnd('\n').Split('\n');

        lines.Should().HaveCount(2);
        var data = JsonDocument.Parse(lines[0]).RootElement.GetProperty("event_data");
        data.GetRawText().Should().Be("""{"order_id":"ORD-1","note":"two\nlines","items":[1,2]}""");
        data.GetProperty("note").GetString().Should().Be("two\nlines", "a line break inside a string is data, not layout");
    }

    [Test]
    public async Task WriteAsync_SameBatchTwice_ReplacesItsObjectInsteadOfAddingOne()
    {
        var batch = new EventBatch(Guid.CreateVersion7(), TestEvents.ReceivedAt, TestEvents.Many(3));

        await _sink.WriteAsync(batch, default);
        await _sink.WriteAsync(batch, default);

        _root.Files().Should().ContainSingle();
        (await ReadLines(_root.Files()[0])).Should().HaveCount(3);
    }

    [Test]
    public async Task WriteAsync_ClientIdWithPathCharacters_StaysInsideItsPartition()
    {
        var batch = new EventBatch(Guid.CreateVersion7(), TestEvents.ReceivedAt, [TestEvents.Create(clientId: "../../etc/evil client")]);

        await _sink.WriteAsync(batch, default);

        Relative(_root.Files()).Should().ContainSingle().Which.Should().StartWith("client_id=..%2F..%2Fetc%2Fevil%20client/date=");
    }

    [Test]
    public async Task Encode_IsValidGzipWithOneJsonObjectPerLine()
    {
        using var encoded = ObjectStorageEventSink.Encode(TestEvents.Many(5));
        using var gzip = new GZipStream(encoded, CompressionMode.Decompress);
        using var reader = new StreamReader(gzip);

        var text = await reader.ReadToEndAsync();

        text.Should().EndWith("\n");
        var lines = text.TrimEnd('\n').Split('\n');
        lines.Should().HaveCount(5);
        lines.Should().AllSatisfy(line => JsonDocument.Parse(line).RootElement.GetProperty("client_id").GetString().Should().Be("client_test"));
    }

    [Test]
    public async Task DecodeAsync_LinesLongerThanTheReadBuffer_AreReadWhole()
    {
        var events = Enumerable.Range(0, 5).Select(_ => StoredEvents.Create(payloadBytes: 200_000)).ToArray();
        using var encoded = ObjectStorageEventSink.Encode(events);

        var decoded = await ObjectStoreTestExtensions.DecodeAllAsync(encoded);

        decoded.Select(e => e.EventData.ToString()).Should().Equal(events.Select(e => e.EventData.ToString()));
    }

    [Test]
    public async Task DecodeAsync_NotGzip_ThrowsInvalidData()
    {
        using var content = new MemoryStream("{\"id\":1}\n"u8.ToArray());

        var act = () => ObjectStoreTestExtensions.DecodeAllAsync(content);

        await act.Should().ThrowAsync<InvalidDataException>();
    }

    [Test]
    public async Task DecodeAsync_LineThatIsNotAStoredEvent_ThrowsNamingTheLine()
    {
        using var good = ObjectStorageEventSink.Encode([StoredEvents.Create()]);
        using var content = new MemoryStream(Gzip(Gunzip(good) + "{\"eventType\":\"x\"}\n"));

        var act = () => ObjectStoreTestExtensions.DecodeAllAsync(content);

        (await act.Should().ThrowAsync<InvalidDataException>()).WithMessage("Line 2 *");
    }

    [Test]
    public async Task WriteAsync_ClientWithDedicatedBucket_WritesItsObjectThere()
    {
        var shared = new LocalFolderObjectStore(Path.Combine(_root.Path, "shared"));
        var dedicated = new Dictionary<string, LocalFolderObjectStore>();
        var sink = new ObjectStorageEventSink(
            shared,
            prefix: null,
            name: null,
            dedicatedStores: bucket => dedicated.TryGetValue(bucket, out var s) ? s : dedicated[bucket] = new LocalFolderObjectStore(Path.Combine(_root.Path, bucket)),
            warnAboutDedicatedBuckets: true,
            maxConcurrentUploads: 4,
            metrics: null,
            NullLogger.Instance);
        var at = new DateTimeOffset(2026, 11, 26, 10, 0, 5, TimeSpan.Zero);
        var batch = StoredEvents.Batch(
            at,
            StoredEvents.Create("client_a"),
            StoredEvents.Create("client_vip", dedicatedBucket: "vip-bucket"),
            StoredEvents.Create("client_b"));

        await sink.WriteAsync(batch, default);

        (await shared.ListKeysAsync()).Should().HaveCount(2).And.OnlyContain(k => !k.Contains("client_vip", StringComparison.Ordinal));
        (await dedicated["vip-bucket"].ListKeysAsync()).Should().ContainSingle().Which.Should().StartWith("client_id=client_vip/");
    }

    [Test]
    public async Task WriteAsync_DedicatedBucketWithoutRouting_WritesToTheStoreAndWarnsOncePerBucket()
    {
        var logger = new FakeLogger();
        var store = new LocalFolderObjectStore(_root.Path);
        var sink = new ObjectStorageEventSink(store, null, null, dedicatedStores: null, warnAboutDedicatedBuckets: true, 1, null, logger);
        var at = new DateTimeOffset(2026, 11, 26, 10, 0, 5, TimeSpan.Zero);

        await sink.WriteAsync(StoredEvents.Batch(at, StoredEvents.Create("client_vip", dedicatedBucket: "vip-bucket")), default);
        await sink.WriteAsync(StoredEvents.Batch(at.AddHours(1), StoredEvents.Create("client_vip", dedicatedBucket: "vip-bucket")), default);

        (await store.ListKeysAsync()).Should().HaveCount(2);
        logger.Collector.GetSnapshot().Where(r => r.Id.Id == 1601).Should().ContainSingle()
            .Which.Message.Should().Contain("client_vip").And.Contain("vip-bucket");
    }

    [Test]
    public async Task WriteAsync_OneClientWithAndWithoutDedicatedBucketInOneBatch_KeepsEveryEventInOneObject()
    {
        // Two domains of one client, one with s3_bucket and one without, in the same batch: without routing they
        // share the store and the key, so they must share the object too.
        var store = new LocalFolderObjectStore(_root.Path);
        var sink = new ObjectStorageEventSink(store, null, null, dedicatedStores: null, warnAboutDedicatedBuckets: true, 4, null, NullLogger.Instance);
        var at = new DateTimeOffset(2026, 11, 26, 10, 0, 5, TimeSpan.Zero);

        await sink.WriteAsync(
            StoredEvents.Batch(
                at,
                StoredEvents.Create("client_acme", dedicatedBucket: "acme-lake"),
                StoredEvents.Create("client_acme"),
                StoredEvents.Create("client_acme", dedicatedBucket: "acme-lake")),
            default);

        _root.Files().Should().ContainSingle();
        await using var stream = File.OpenRead(_root.Files()[0]);
        var read = new List<CollectedEvent>();
        await foreach (var e in ObjectStorageEventSink.DecodeAsync(stream))
        {
            read.Add(e);
        }

        read.Should().HaveCount(3);
    }

    [Test]
    public async Task WriteAsync_EveryObject_IsCountedWithItsSize()
    {
        using var meterFactory = new TestMeterFactory();
        var metrics = new ObjectStorageMetrics(new CollectorMetrics(meterFactory));
        using var written = new MetricCollector<long>(meterFactory, CollectorMetrics.MeterName, "evothesis.collector.objects.written");
        using var size = new MetricCollector<long>(meterFactory, CollectorMetrics.MeterName, "evothesis.collector.objects.size");
        var sink = new ObjectStorageEventSink(new LocalFolderObjectStore(_root.Path), null, null, null, false, 1, metrics, NullLogger.Instance);

        await sink.WriteAsync(new EventBatch(Guid.CreateVersion7(), TestEvents.ReceivedAt, [TestEvents.Create(clientId: "a"), TestEvents.Create(clientId: "b")]), default);

        written.GetMeasurementSnapshot().Should().HaveCount(2).And.OnlyContain(m => m.Value == 1 && (string?)m.Tags["evothesis.object_store"] == "local");
        size.GetMeasurementSnapshot().Select(m => m.Value).Should().BeEquivalentTo(_root.Files().Select(f => new FileInfo(f).Length));
    }

    private IEnumerable<string> Relative(IEnumerable<string> files) =>
        files.Select(f => Path.GetRelativePath(_root.Path, f).Replace('\\', '/'));

    private static string Gunzip(PooledBufferStream encoded)
    {
        using var gzip = new GZipStream(new MemoryStream(encoded.WrittenMemory.ToArray()), CompressionMode.Decompress);
        using var reader = new StreamReader(gzip);
        return reader.ReadToEnd();
    }

    private static byte[] Gzip(string text)
    {
        using var output = new MemoryStream();
        using (var gzip = new GZipStream(output, CompressionLevel.Fastest))
        {
            gzip.Write(System.Text.Encoding.UTF8.GetBytes(text));
        }

        return output.ToArray();
    }

    private static async Task<string[]> ReadLines(string file)
    {
        await using var stream = File.OpenRead(file);
        await using var gzip = new GZipStream(stream, CompressionMode.Decompress);
        using var reader = new StreamReader(gzip);
        return (await reader.ReadToEndAsync()).TrimEnd('\n').Split('\n');
    }
}
