using System.IO.Compression;
using System.Text.Json;
using Evothesis.Collector.Audit;
using Evothesis.Collector.Sinks.ObjectStorage;

namespace Evothesis.Collector.Tests.Sinks.ObjectStorage;

public sealed class ObjectStorageAuditSinkTests
{
    private string _root = null!;

    [SetUp]
    public void SetUp() => _root = Path.Combine(Path.GetTempPath(), "evothesis-audit-" + Guid.NewGuid().ToString("N"));

    [TearDown]
    public void TearDown()
    {
        if (Directory.Exists(_root))
        {
            Directory.Delete(_root, recursive: true);
        }
    }

    [Test]
    public async Task WriteAsync_LocalFolder_WritesOneGzipNdjsonFilePerClientUnderAudit()
    {
        var sink = new ObjectStorageAuditSink(new LocalFolderObjectStore(_root));
        var time = new DateTimeOffset(2026, 11, 26, 13, 5, 0, TimeSpan.Zero);

        await sink.WriteAsync([Record("client_a", time), Record("client_b", time), Record("client_a", time)], CancellationToken.None);

        var files = Directory.GetFiles(_root, "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(_root, f)).Order().ToArray();
        files.Should().HaveCount(2).And.OnlyContain(f => f.EndsWith(".ndjson.gz", StringComparison.Ordinal));
        files[0].Should().StartWith("audit/client_id=client_a/date=2026-11-26/hour=13/20261126T130500Z-");
        files[1].Should().StartWith("audit/client_id=client_b/date=2026-11-26/hour=13/");
        var lines = ReadLines(Path.Combine(_root, files[0]));
        lines.Should().HaveCount(2);
    }

    [Test]
    public async Task WriteAsync_Record_IsStoredWithEveryFieldAndNothingElse()
    {
        var sink = new ObjectStorageAuditSink(new LocalFolderObjectStore(_root));
        var record = Record("client_a", new DateTimeOffset(2026, 11, 26, 13, 5, 0, TimeSpan.Zero));

        await sink.WriteAsync([record], CancellationToken.None);

        var file = Directory.GetFiles(_root, "*.ndjson.gz", SearchOption.AllDirectories).Should().ContainSingle().Subject;
        using var document = JsonDocument.Parse(ReadLines(file).Single());
        var root = document.RootElement;
        root.EnumerateObject().Select(p => p.Name).Should().Equal(
            "id", "time", "client_id", "site_id", "request_id", "event_count", "event_types", "ip_hash", "redactions");
        root.GetProperty("id").GetGuid().Should().Be(record.Id);
        root.GetProperty("time").GetDateTimeOffset().Should().Be(record.Time);
        root.GetProperty("site_id").GetString().Should().Be("clinic.example");
        root.GetProperty("request_id").GetString().Should().Be("req-1");
        root.GetProperty("event_count").GetInt32().Should().Be(3);
        root.GetProperty("event_types").GetProperty("pageview").GetInt32().Should().Be(2);
        root.GetProperty("ip_hash").GetString().Should().Be("ab12");
        root.GetProperty("redactions").EnumerateArray().Select(e => e.GetString()).Should().Equal("email:event_data.note");
    }

    [Test]
    public async Task WriteAsync_Completed_LeavesOnlyTheFinishedRecordFile()
    {
        Directory.CreateDirectory(_root);
        var sink = new ObjectStorageAuditSink(new LocalFolderObjectStore(_root));
        var record = Record("client_a", DateTimeOffset.UtcNow);

        await sink.WriteAsync([record], CancellationToken.None);

        // Exactly one file, under its final name, holding the record: no temporary file beside it.
        var file = Directory.GetFiles(_root, "*", SearchOption.AllDirectories).Should().ContainSingle().Subject;
        file.Should().EndWith(".ndjson.gz").And.NotEndWith(".partial");
        using var document = JsonDocument.Parse(ReadLines(file).Should().ContainSingle().Subject);
        document.RootElement.GetProperty("id").GetGuid().Should().Be(record.Id);
        document.RootElement.GetProperty("client_id").GetString().Should().Be("client_a");
        document.RootElement.GetProperty("event_count").GetInt32().Should().Be(3);
    }

    [Test]
    public async Task WriteAsync_RecordWithoutRequestIdOrIp_StoresThemAsNull()
    {
        var sink = new ObjectStorageAuditSink(new LocalFolderObjectStore(_root));
        var time = new DateTimeOffset(2026, 11, 26, 13, 5, 0, TimeSpan.Zero);
        var record = new AuditRecord
        {
            Id = Guid.CreateVersion7(time),
            Time = time,
            ClientId = "client_a",
            SiteId = "clinic.example",
            EventCount = 1,
            EventTypes = new Dictionary<string, int> { ["pageview"] = 1 },
        };

        await sink.WriteAsync([record], CancellationToken.None);

        var file = Directory.GetFiles(_root, "*.ndjson.gz", SearchOption.AllDirectories).Should().ContainSingle().Subject;
        using var document = JsonDocument.Parse(ReadLines(file).Single());
        document.RootElement.GetProperty("request_id").ValueKind.Should().Be(JsonValueKind.Null);
        document.RootElement.GetProperty("ip_hash").ValueKind.Should().Be(JsonValueKind.Null);
    }

    [Test]
    public async Task WriteAsync_StoreFails_Throws()
    {
        // A file where the audit folder should be: the store cannot create the folder.
        Directory.CreateDirectory(_root);
        await File.WriteAllTextAsync(Path.Combine(_root, "audit"), "in the way");
        var sink = new ObjectStorageAuditSink(new LocalFolderObjectStore(_root));

        var act = async () => await sink.WriteAsync([Record("client_a", DateTimeOffset.UtcNow)], CancellationToken.None);

        // The store reports its own failures as ObjectStoreException, the file system's error inside.
        (await act.Should().ThrowAsync<ObjectStoreException>()).WithInnerException<IOException>();
    }

    private static AuditRecord Record(string clientId, DateTimeOffset time) => new()
    {
        Id = Guid.CreateVersion7(time),
        Time = time,
        ClientId = clientId,
        SiteId = "clinic.example",
        RequestId = "req-1",
        EventCount = 3,
        EventTypes = new Dictionary<string, int> { ["pageview"] = 2, ["form_submit"] = 1 },
        IpHash = "ab12",
        Redactions = ["email:event_data.note"],
    };

    private static string[] ReadLines(string path)
    {
        using var file = File.OpenRead(path);
        using var gzip = new GZipStream(file, CompressionMode.Decompress);
        using var reader = new StreamReader(gzip);
        return reader.ReadToEnd().Split('\n', StringSplitOptions.RemoveEmptyEntries);
    }
}
