using System.IO.Compression;
using System.Text.Json;
using Evothesis.Collector.Batching;
using Evothesis.Collector.Diagnostics;
using Evothesis.Collector.Events;
using Evothesis.Collector.Sinks;
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
    private TestMeterFactory _meters = null!;
    private ObjectStorageEventSink _sink = null!;

    [SetUp]
    public void SetUp()
    {
        _root = new TempDirectory();
        _meters = new TestMeterFactory();
        _sink = new ObjectStorageEventSink(new LocalFolderObjectStore(_root.Path));
    }

    [TearDown]
    public void TearDown()
    {
        _meters.Dispose();
        _root.Dispose();
    }

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

    [TestCase(nameof(ObjectStoreError.BucketNotFound))]
    [TestCase(nameof(ObjectStoreError.AccessDenied))]
    public async Task WriteAsync_DedicatedBucketRefuses_ThrowsPermanentClientWriteForThatClientOnly(string refusal)
    {
        var (sink, shared, dedicated) = FaultySink();
        var error = Enum.Parse<ObjectStoreError>(refusal);
        dedicated.Failure = _ => FaultyObjectStore.Error(error, "s3:vip-bucket");

        var act = async () => await sink.WriteAsync(MixedBatch(), default);

        var thrown = (await act.Should().ThrowAsync<ClientWriteException>()).Which;
        thrown.IsPermanent.Should().BeTrue("a missing or forbidden bucket does not heal by retrying");
        thrown.FailedClientIds.Should().BeEquivalentTo(["client_vip"]);
        (await shared.ListKeysAsync()).Should().HaveCount(2, "the other clients are stored");
    }

    [Test]
    public async Task WriteAsync_OnlyClientsOfARefusingDedicatedBucket_ThrowsPermanentClientWriteNotARejectionOfTheSink()
    {
        var (sink, _, dedicated) = FaultySink();
        dedicated.Failure = _ => FaultyObjectStore.Error(ObjectStoreError.BucketNotFound, "s3:vip-bucket");

        var act = async () => await sink.WriteAsync(StoredEvents.Batch(TestEvents.ReceivedAt, StoredEvents.Create("client_vip", dedicatedBucket: "vip-bucket")), default);

        var thrown = (await act.Should().ThrowAsync<ClientWriteException>()).Which;
        thrown.IsPermanent.Should().BeTrue();
        thrown.FailedClientIds.Should().BeEquivalentTo(["client_vip"]);
    }

    [TestCase(nameof(ObjectStoreError.BucketNotFound))]
    [TestCase(nameof(ObjectStoreError.AccessDenied))]
    public async Task WriteAsync_OwnBucketRefusesEveryClient_ThrowsPermanentClientWriteNamingEveryClient(string refusal)
    {
        var (sink, shared, _) = FaultySink();
        var error = Enum.Parse<ObjectStoreError>(refusal);
        shared.Failure = _ => FaultyObjectStore.Error(error);

        var act = async () => await sink.WriteAsync(SharedBatch(), default);

        // Not EventsRejectedException: the consumer would try each request alone, and every one would be refused alike.
        var thrown = (await act.Should().ThrowAsync<ClientWriteException>()).Which;
        thrown.IsPermanent.Should().BeTrue();
        thrown.FailedClientIds.Should().BeEquivalentTo(["client_a", "client_b"]);
        thrown.InnerException.Should().BeOfType<ObjectStoreException>().Which.Error.Should().Be(error);
    }

    [Test]
    public async Task WriteAsync_OwnBucketRefusesWhileADedicatedBucketTakesItsClient_ThrowsPermanentClientWriteForTheOthers()
    {
        var (sink, shared, dedicated) = FaultySink();
        shared.Failure = _ => FaultyObjectStore.Error(ObjectStoreError.AccessDenied);

        var act = async () => await sink.WriteAsync(MixedBatch(), default);

        var thrown = (await act.Should().ThrowAsync<ClientWriteException>()).Which;
        thrown.IsPermanent.Should().BeTrue();
        thrown.FailedClientIds.Should().BeEquivalentTo(["client_a", "client_b"]);
        (await dedicated.ListKeysAsync()).Should().ContainSingle();
    }

    [Test]
    public async Task WriteAsync_OwnBucketUnreachable_ThrowsItsFailureToBeRetried()
    {
        var (sink, shared, _) = FaultySink();
        var unreachable = FaultyObjectStore.Error(ObjectStoreError.Failed);
        shared.Failure = _ => unreachable;

        var act = async () => await sink.WriteAsync(SharedBatch(), default);

        (await act.Should().ThrowAsync<ObjectStoreException>()).Which.Should().BeSameAs(unreachable);
    }

    [Test]
    public async Task WriteAsync_DedicatedBucketUnreachable_ThrowsTransientClientWrite()
    {
        var (sink, _, dedicated) = FaultySink();
        dedicated.Failure = _ => new HttpRequestException("Connection refused");

        var act = async () => await sink.WriteAsync(MixedBatch(), default);

        var thrown = (await act.Should().ThrowAsync<ClientWriteException>()).Which;
        thrown.IsPermanent.Should().BeFalse();
        thrown.FailedClientIds.Should().BeEquivalentTo(["client_vip"]);
    }

    [Test]
    public async Task WriteAsync_ARefusalAndAnOutageTogether_AreRetriedAsAnOutage()
    {
        var (sink, shared, dedicated) = FaultySink();
        dedicated.Failure = _ => FaultyObjectStore.Error(ObjectStoreError.BucketNotFound, "s3:vip-bucket");
        shared.Failure = request => request.Key.Contains("client_b", StringComparison.Ordinal) ? new TimeoutException("The request timed out.") : null;

        var act = async () => await sink.WriteAsync(MixedBatch(), default);

        var thrown = (await act.Should().ThrowAsync<ClientWriteException>()).Which;
        thrown.IsPermanent.Should().BeFalse("the outage may end; the refusal shows again alone once it does");
        thrown.FailedClientIds.Should().BeEquivalentTo(["client_b", "client_vip"]);
    }

    [Test]
    public async Task WriteAsync_LocalFolderThatCannotBeWritten_ThrowsItsFailureToBeRetried()
    {
        // Running as root, permissions stop nothing; a folder below a regular file cannot be created by anyone.
        var file = Path.Combine(_root.Path, "not-a-folder");
        await File.WriteAllTextAsync(file, "a regular file");
        var sink = new ObjectStorageEventSink(new LocalFolderObjectStore(Path.Combine(file, "data")));

        var act = async () => await sink.WriteAsync(MixedBatch(), default);

        (await act.Should().ThrowAsync<ObjectStoreException>()).Which.Error.Should().Be(ObjectStoreError.Failed);
    }

    [Test]
    public async Task Redelivery_AfterAStopBetweenWritingAndRecording_RewritesTheSameKeysWithTheRecordsThatArrivedSince()
    {
        var objects = Path.Combine(_root.Path, "objects");

        // First run: the first record's batch is closed by age and its object written, then the process stops before
        // its cursor moves, while two more records arrive: read again, the same batch holds them too.
        var held = new FaultyObjectStore(new LocalFolderObjectStore(objects)) { HoldAfterPut = true };
        List<string> firstKeys;
        await using (var first = SpoolFed(held))
        {
            await EnqueueAsync(first, StoredEvents.Create("client_a", eventId: "r1-0"), StoredEvents.Create("client_a", eventId: "r1-1"));
            await held.Held.WaitAsync(TimeSpan.FromSeconds(15));
            firstKeys = await held.ListKeysAsync();
            await EnqueueAsync(first, StoredEvents.Create("client_b", eventId: "r2-0"));
            await EnqueueAsync(first, StoredEvents.Create("client_a", eventId: "r3-0"));

            using var budget = new CancellationTokenSource(TimeSpan.FromMilliseconds(200));
            await first.StopAsync(budget.Token);
        }

        // Second run: the same first record, so the same batch id and keys, now with every record.
        var store = new LocalFolderObjectStore(objects);
        await using (var second = SpoolFed(new FaultyObjectStore(store)))
        {
            second.Start();
            await Eventually.True(() => StoredEventIds(objects).Count == 4);
        }

        firstKeys.Should().ContainSingle().Which.Should().StartWith("client_id=client_a/");
        var keys = await store.ListKeysAsync();
        keys.Should().HaveCount(2).And.Contain(firstKeys[0], "the client's object of the first attempt is replaced, not joined by a twin");
        keys.Select(k => k[(k.LastIndexOf('/') + 1)..]).Distinct().Should().ContainSingle("both clients' objects belong to the one batch");
        (await store.ReadEventsAsync(firstKeys[0])).Select(e => e.EventId).Should().Equal("r1-0", "r1-1", "r3-0");
        StoredEventIds(objects).Should().BeEquivalentTo(["r1-0", "r1-1", "r2-0", "r3-0"]);
    }

    // The sink fed from a spool under the test folder, as the collector wires it, with objects closed by an age of 100 ms.
    private EventBatcher SpoolFed(IObjectStore store)
    {
        var options = new CollectorOptions();
        options.Storage.Path = _root.Path;
        options.Spool.MinFreeDiskBytes = 0;
        options.Batching.RetryBaseDelay = TimeSpan.FromMilliseconds(5);
        options.Batching.RetryMaxDelay = TimeSpan.FromMilliseconds(50);
        var wrapped = Microsoft.Extensions.Options.Options.Create(options);
        var sink = new ObjectStorageEventSink(store, null, null, null, false, 1, null, NullLogger.Instance, new ObjectLimits(1024 * 1024, TimeSpan.FromMilliseconds(100)));
        var paths = new CollectorPaths();
        return new EventBatcher(
            new SinkSet([sink], wrapped, paths),
            [],
            wrapped,
            paths,
            TimeProvider.System,
            new CollectorMetrics(_meters),
            NullLoggerFactory.Instance);
    }

    private static async Task EnqueueAsync(EventBatcher batcher, params CollectedEvent[] events)
    {
        batcher.TryEnqueue(events, audit: null, out var written).Should().Be(EnqueueStatus.Queued);
        await written!.WaitAsync(TimeSpan.FromSeconds(15));
    }

    // Every eventId in the objects under a folder, once per stored line.
    private static List<string> StoredEventIds(string folder) =>
        !Directory.Exists(folder)
            ? []
            : Directory.EnumerateFiles(folder, "*.ndjson.gz", SearchOption.AllDirectories)
                .SelectMany(f =>
                {
                    using var gzip = new GZipStream(File.OpenRead(f), CompressionMode.Decompress);
                    using var reader = new StreamReader(gzip);
                    return reader.ReadToEnd().Split('\n', StringSplitOptions.RemoveEmptyEntries);
                })
                .Select(line => JsonDocument.Parse(line).RootElement.GetProperty("eventId").GetString()!)
                .ToList();

    // client_a and client_b to the sink's own store, client_vip to its dedicated bucket.
    private static EventBatch MixedBatch() =>
        StoredEvents.Batch(
            TestEvents.ReceivedAt,
            StoredEvents.Create("client_a"),
            StoredEvents.Create("client_vip", dedicatedBucket: "vip-bucket"),
            StoredEvents.Create("client_b"));

    // client_a and client_b, both to the sink's own store.
    private static EventBatch SharedBatch() =>
        StoredEvents.Batch(TestEvents.ReceivedAt, StoredEvents.Create("client_a"), StoredEvents.Create("client_b"));

    private (ObjectStorageEventSink Sink, FaultyObjectStore Shared, FaultyObjectStore Dedicated) FaultySink()
    {
        var shared = new FaultyObjectStore(new LocalFolderObjectStore(Path.Combine(_root.Path, "shared")));
        var dedicated = new FaultyObjectStore(new LocalFolderObjectStore(Path.Combine(_root.Path, "vip")), "s3:vip-bucket");
        var sink = new ObjectStorageEventSink(shared, null, null, _ => dedicated, warnAboutDedicatedBuckets: true, 4, null, NullLogger.Instance);
        return (sink, shared, dedicated);
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
