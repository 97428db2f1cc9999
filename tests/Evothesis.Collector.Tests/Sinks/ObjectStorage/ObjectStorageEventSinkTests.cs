using System.IO.Compression;
using System.Text;
using Evothesis.Collector.Events;
using Evothesis.Collector.Sinks.ObjectStorage;
using Evothesis.Collector.Tests.Support;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Logging.Testing;

namespace Evothesis.Collector.Tests.Sinks.ObjectStorage;

public sealed class ObjectStorageEventSinkTests
{
    private static readonly DateTimeOffset TenOClock = new(2026, 11, 26, 10, 0, 5, TimeSpan.Zero);

    private string _root = null!;

    [SetUp]
    public void SetUp() => _root = Directory.CreateTempSubdirectory("evothesis-sink-").FullName;

    [TearDown]
    public void TearDown() => Directory.Delete(_root, recursive: true);

    [Test]
    public async Task Encode_ThenDecodeAsync_RoundTripsEveryField()
    {
        var events = new[]
        {
            StoredEvents.Create(),
            StoredEvents.Create(eventType: "purchase", eventId: "ORD-1"),
            new CollectedEvent
            {
                Id = Guid.CreateVersion7(),
                EventType = "minimal",
                ClientId = "client_a",
                SiteId = "a.example",
                Timestamp = TenOClock,
                ReceivedAt = TenOClock,
            },
        };

        using var encoded = ObjectStorageEventSink.Encode(events);
        var decoded = await ObjectStoreTestExtensions.DecodeAllAsync(encoded);

        decoded.Should().HaveCount(3);
        for (var i = 0; i < events.Length; i++)
        {
            decoded[i].ShouldEqualStored(events[i]);
        }

        decoded[2].PageData.IsNull.Should().BeTrue();
        decoded[2].EventId.Should().BeNull();
        decoded[2].Ip.Should().BeNull();
    }

    [Test]
    public void Encode_IsGzipOfOneJsonObjectPerLine()
    {
        using var encoded = ObjectStorageEventSink.Encode([StoredEvents.Create(), StoredEvents.Create()]);

        var lines = Gunzip(encoded.WrittenMemory.ToArray()).Split('\n');

        lines.Should().HaveCount(3);
        lines[2].Should().BeEmpty("every line, the last included, ends with a newline");
        foreach (var line in lines[..2])
        {
            using var json = System.Text.Json.JsonDocument.Parse(line);
            json.RootElement.GetProperty("client_id").GetString().Should().Be("client_a");
            json.RootElement.GetProperty("page_data").GetProperty("title").GetString().Should().Be("Café \"Ünïcode\" ✓");
        }
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
        using var content = new MemoryStream(Encoding.UTF8.GetBytes("{\"id\":1}\n"));

        var act = () => ObjectStoreTestExtensions.DecodeAllAsync(content);

        await act.Should().ThrowAsync<InvalidDataException>();
    }

    [Test]
    public async Task DecodeAsync_LineThatIsNotAStoredEvent_ThrowsNamingTheLine()
    {
        var good = Gunzip(ObjectStorageEventSink.Encode([StoredEvents.Create()]).WrittenMemory.ToArray());
        using var content = new MemoryStream(Gzip(good + "{\"eventType\":\"x\"}\n"));

        var act = () => ObjectStoreTestExtensions.DecodeAllAsync(content);

        (await act.Should().ThrowAsync<InvalidDataException>()).WithMessage("Line 2 *");
    }

    [Test]
    public async Task WriteAsync_TwoClients_WritesOneObjectPerClientUnderItsPartition()
    {
        var store = new LocalFolderObjectStore(_root);
        var sink = new ObjectStorageEventSink(store, "events");
        var a = StoredEvents.Create("client_a");
        var b = StoredEvents.Create("client_b");
        var batch = StoredEvents.Batch(TenOClock, a, b, StoredEvents.Create("client_a"));

        await sink.WriteAsync(batch, CancellationToken.None);

        var keys = await store.ListKeysAsync();
        keys.Should().Equal(
            $"events/client_id=client_a/date=2026-11-26/hour=10/20261126T100005Z-{batch.Id:N}.ndjson.gz",
            $"events/client_id=client_b/date=2026-11-26/hour=10/20261126T100005Z-{batch.Id:N}.ndjson.gz");
        (await store.ReadEventsAsync(keys[0])).Should().HaveCount(2);
        (await store.ReadEventsAsync(keys[1])).Should().ContainSingle().Which.ShouldEqualStored(b);
    }

    [Test]
    public async Task WriteAsync_SameBatchAgain_ReplacesItsObjects()
    {
        var store = new LocalFolderObjectStore(_root);
        var sink = new ObjectStorageEventSink(store);
        var batch = StoredEvents.Batch(TenOClock, StoredEvents.Create(), StoredEvents.Create());

        await sink.WriteAsync(batch, CancellationToken.None);
        await sink.WriteAsync(batch, CancellationToken.None);

        (await store.ListKeysAsync()).Should().ContainSingle();
        Directory.GetFiles(_root, "*", SearchOption.AllDirectories).Should().ContainSingle("no temporary files remain");
    }

    [Test]
    public async Task WriteAsync_ClientWithDedicatedBucket_WritesItsObjectThere()
    {
        var shared = new LocalFolderObjectStore(Path.Combine(_root, "shared"));
        var dedicated = new Dictionary<string, LocalFolderObjectStore>();
        var sink = new ObjectStorageEventSink(
            shared,
            prefix: null,
            name: null,
            dedicatedStores: bucket => dedicated.TryGetValue(bucket, out var s) ? s : dedicated[bucket] = new LocalFolderObjectStore(Path.Combine(_root, bucket)),
            warnAboutDedicatedBuckets: true,
            maxConcurrentUploads: 4,
            metrics: null,
            NullLogger.Instance);
        var batch = StoredEvents.Batch(
            TenOClock,
            StoredEvents.Create("client_a"),
            StoredEvents.Create("client_vip", dedicatedBucket: "vip-bucket"),
            StoredEvents.Create("client_b"));

        await sink.WriteAsync(batch, CancellationToken.None);

        (await shared.ListKeysAsync()).Should().HaveCount(2).And.OnlyContain(k => !k.Contains("client_vip"));
        (await dedicated["vip-bucket"].ListKeysAsync()).Should().ContainSingle().Which.Should().StartWith("client_id=client_vip/");
    }

    [Test]
    public async Task WriteAsync_DedicatedBucketWithoutRouting_WritesToTheStoreAndWarnsOnce()
    {
        var logger = new FakeLogger();
        var store = new LocalFolderObjectStore(_root);
        var sink = new ObjectStorageEventSink(store, null, null, dedicatedStores: null, warnAboutDedicatedBuckets: true, 1, null, logger);

        await sink.WriteAsync(StoredEvents.Batch(TenOClock, StoredEvents.Create("client_vip", dedicatedBucket: "vip-bucket")), CancellationToken.None);
        await sink.WriteAsync(StoredEvents.Batch(TenOClock.AddHours(1), StoredEvents.Create("client_vip", dedicatedBucket: "vip-bucket")), CancellationToken.None);

        (await store.ListKeysAsync()).Should().HaveCount(2);
        logger.Collector.GetSnapshot().Where(r => r.Id.Id == 1601).Should().ContainSingle()
            .Which.Message.Should().Contain("client_vip").And.Contain("vip-bucket");
    }

    private static string Gunzip(byte[] bytes)
    {
        using var gzip = new GZipStream(new MemoryStream(bytes), CompressionMode.Decompress);
        using var reader = new StreamReader(gzip, Encoding.UTF8);
        return reader.ReadToEnd();
    }

    private static byte[] Gzip(string text)
    {
        using var output = new MemoryStream();
        using (var gzip = new GZipStream(output, CompressionLevel.Fastest))
        {
            gzip.Write(Encoding.UTF8.GetBytes(text));
        }

        return output.ToArray();
    }
}
