using System.Text;
using Evothesis.Collector.Sinks.ObjectStorage;

namespace Evothesis.Collector.Tests.Sinks.ObjectStorage;

public sealed class LocalFolderObjectStoreTests
{
    private string _root = null!;
    private LocalFolderObjectStore _store = null!;

    [SetUp]
    public void SetUp()
    {
        _root = Directory.CreateTempSubdirectory("evothesis-local-store-").FullName;
        _store = new LocalFolderObjectStore(_root);
    }

    [TearDown]
    public void TearDown() => Directory.Delete(_root, recursive: true);

    [Test]
    public async Task PutAsync_ThenGetAsync_ReturnsTheBytes()
    {
        await PutAsync("a/b/c.ndjson.gz", "hello");

        await using var stored = await _store.GetAsync("a/b/c.ndjson.gz", CancellationToken.None);

        (await ReadAsync(stored.Content)).Should().Be("hello");
        stored.Length.Should().Be(5);
        stored.ContentEncoding.Should().Be("gzip");
        stored.ContentType.Should().Be(ObjectStorageEventSink.ContentType);
        File.Exists(Path.Combine(_root, "a", "b", "c.ndjson.gz")).Should().BeTrue();
    }

    [Test]
    public async Task PutAsync_SameKeyTwice_KeepsOneObjectWithTheLastContent()
    {
        await PutAsync("k/x.gz", "first");
        await PutAsync("k/x.gz", "second");

        var entries = await ListAsync(string.Empty);

        entries.Should().ContainSingle().Which.Key.Should().Be("k/x.gz");
        File.ReadAllText(Path.Combine(_root, "k", "x.gz")).Should().Be("second");
    }

    [Test]
    public async Task ListAsync_Prefix_ReturnsMatchingKeysAtAnyDepthInOrdinalOrderWithoutTemporaryFiles()
    {
        await PutAsync("client_id=b/date=2026-11-26/hour=10/2.gz", "2");
        await PutAsync("client_id=a/date=2026-11-26/hour=11/1.gz", "1");
        await PutAsync("client_id=a/date=2026-11-26/hour=10/0.gz", "0");
        await PutAsync("client_id=ab/x.gz", "x");
        File.WriteAllText(Path.Combine(_root, "client_id=a", "left.gz.123.partial"), "torn");

        (await ListAsync("client_id=a/")).Select(e => e.Key).Should().Equal(
            "client_id=a/date=2026-11-26/hour=10/0.gz",
            "client_id=a/date=2026-11-26/hour=11/1.gz");
        (await ListAsync("client_id=a")).Select(e => e.Key).Should().HaveCount(3);
        (await ListAsync(string.Empty)).Should().HaveCount(4).And.OnlyContain(e => e.Size == 1 && e.LastModified != null);
        (await ListAsync("nothing/")).Should().BeEmpty();
    }

    [Test]
    public async Task ListPrefixesAsync_ReturnsTheFoldersOneLevelDown()
    {
        await PutAsync("events/client_id=b/date=2026-11-26/0.gz", "0");
        await PutAsync("events/client_id=a/date=2026-11-26/0.gz", "0");
        await PutAsync("events/other/0.gz", "0");

        var prefixes = new List<string>();
        await foreach (var p in _store.ListPrefixesAsync("events/client_id=", CancellationToken.None))
        {
            prefixes.Add(p);
        }

        prefixes.Should().Equal("events/client_id=a/", "events/client_id=b/");
    }

    [Test]
    public async Task GetAsync_MissingKey_ThrowsObjectNotFound()
    {
        var act = async () => await _store.GetAsync("missing/key.gz", CancellationToken.None);

        (await act.Should().ThrowAsync<ObjectStoreException>()).Which.Error.Should().Be(ObjectStoreError.ObjectNotFound);
    }

    [TestCase("../escape.gz")]
    [TestCase("a/../../escape.gz")]
    [TestCase("/etc/passwd")]
    public async Task PutAsync_KeyLeavingTheFolder_IsRefused(string key)
    {
        var act = async () => await PutAsync(key, "x");

        await act.Should().ThrowAsync<ArgumentException>();
    }

    private async Task PutAsync(string key, string content)
    {
        using var stream = new MemoryStream(Encoding.UTF8.GetBytes(content));
        await _store.PutAsync(
            new ObjectPutRequest { Key = key, Content = stream, Length = stream.Length, ContentType = "text/plain" },
            CancellationToken.None);
    }

    private async Task<List<ObjectEntry>> ListAsync(string prefix)
    {
        var entries = new List<ObjectEntry>();
        await foreach (var e in _store.ListAsync(prefix, CancellationToken.None))
        {
            entries.Add(e);
        }

        return entries;
    }

    private static async Task<string> ReadAsync(Stream stream)
    {
        using var reader = new StreamReader(stream);
        return await reader.ReadToEndAsync();
    }
}
