using System.Text;
using Evothesis.Collector.Sinks.ObjectStorage;
using Evothesis.Collector.Tests.Support;

namespace Evothesis.Collector.Tests.Sinks.ObjectStorage;

public class LocalFolderObjectStoreTests
{
    private TempDirectory _root = null!;
    private LocalFolderObjectStore _store = null!;

    [SetUp]
    public void SetUp()
    {
        _root = new TempDirectory();
        _store = new LocalFolderObjectStore(_root.Path);
    }

    [TearDown]
    public void TearDown() => _root.Dispose();

    [Test]
    public async Task PutAsync_WritesTheContentUnderTheKey()
    {
        await _store.PutAsync(Request("a/b/c.txt", "hello"), default);

        File.ReadAllText(Path.Combine(_root.Path, "a", "b", "c.txt")).Should().Be("hello");
    }

    [Test]
    public async Task PutAsync_ExistingKey_IsReplacedWhole()
    {
        await _store.PutAsync(Request("k.txt", "a much longer first version"), default);
        await _store.PutAsync(Request("k.txt", "second"), default);

        File.ReadAllText(Path.Combine(_root.Path, "k.txt")).Should().Be("second");
        _root.Files().Should().ContainSingle();
    }

    [Test]
    public async Task PutAsync_ContentFailsHalfway_LeavesNoFileBehind()
    {
        var failing = new FailingStream(Encoding.UTF8.GetBytes(new string('x', 10_000)), failAfter: 4096);

        var act = async () => await _store.PutAsync(
            new ObjectPutRequest { Key = "x/half.ndjson.gz", Content = failing, Length = 10_000, ContentType = "application/x-ndjson" },
            default);

        await act.Should().ThrowAsync<IOException>();
        _root.Files().Should().BeEmpty("neither the final file nor a temporary one may remain");
    }

    [Test]
    public async Task PutAsync_ContentFailsHalfway_KeepsThePreviousVersionIntact()
    {
        await _store.PutAsync(Request("k.txt", "complete"), default);
        var failing = new FailingStream(new byte[10_000], failAfter: 100);

        var act = async () => await _store.PutAsync(
            new ObjectPutRequest { Key = "k.txt", Content = failing, Length = 10_000, ContentType = "text/plain" },
            default);

        await act.Should().ThrowAsync<IOException>();
        File.ReadAllText(Path.Combine(_root.Path, "k.txt")).Should().Be("complete");
    }

    [TestCase("../outside.txt")]
    [TestCase("a/../../outside.txt")]
    [TestCase("/etc/passwd")]
    public void GetPath_KeyLeavingTheFolder_IsRefused(string key)
    {
        var act = () => _store.GetPath(key);

        act.Should().Throw<ArgumentException>();
    }

    private static ObjectPutRequest Request(string key, string content)
    {
        var bytes = Encoding.UTF8.GetBytes(content);
        return new ObjectPutRequest { Key = key, Content = new MemoryStream(bytes), Length = bytes.Length, ContentType = "text/plain" };
    }

    private sealed class FailingStream(byte[] data, int failAfter) : MemoryStream(data)
    {
        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (Position >= failAfter)
            {
                throw new IOException("The connection was reset.");
            }

            return ValueTask.FromResult(Read(buffer.Span[..Math.Min(buffer.Length, failAfter - (int)Position)]));
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();
    }
}
