using System.IO.Compression;
using System.Text.Json;
using Evothesis.Collector.Events;
using Evothesis.Collector.Sinks.ObjectStorage;
using Evothesis.Collector.Tests.Support;

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

    private IEnumerable<string> Relative(IEnumerable<string> files) =>
        files.Select(f => Path.GetRelativePath(_root.Path, f).Replace('\\', '/'));

    private static async Task<string[]> ReadLines(string file)
    {
        await using var stream = File.OpenRead(file);
        await using var gzip = new GZipStream(stream, CompressionMode.Decompress);
        using var reader = new StreamReader(gzip);
        return (await reader.ReadToEndAsync()).TrimEnd('\n').Split('\n');
    }
}
