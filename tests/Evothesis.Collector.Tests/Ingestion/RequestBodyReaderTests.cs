using System.IO.Compression;
using System.Text;
using Evothesis.Collector.Ingestion;
using Evothesis.Collector.Ingestion.Internal;

namespace Evothesis.Collector.Tests.Ingestion;

public class RequestBodyReaderTests
{
    [Test]
    public async Task ReadAsync_DeclaredLength_ReadsTheBody()
    {
        var body = Encoding.UTF8.GetBytes("""{"eventType":"x"}""");

        var (buffer, length) = await RequestBodyReader.ReadAsync(Request(body, body.Length), 1024, default);

        buffer.AsSpan(0, length).ToArray().Should().Equal(body);
    }

    [Test]
    public async Task ReadAsync_ChunkedBodyInSmallReads_ReadsTheBody()
    {
        var body = Encoding.UTF8.GetBytes(new string('x', 100_000));

        var (buffer, length) = await RequestBodyReader.ReadAsync(Request(new TrickleStream(body), null), 200_000, default);

        length.Should().Be(body.Length);
        buffer.AsSpan(0, length).SequenceEqual(body).Should().BeTrue();
    }

    [Test]
    public async Task ReadAsync_DeclaredLengthOverLimit_IsRefusedWith413BeforeReading()
    {
        var stream = new TrickleStream(new byte[10]);

        var act = async () => await RequestBodyReader.ReadAsync(Request(stream, 2 * 1024 * 1024), 1024 * 1024, default);

        var problem = (await act.Should().ThrowAsync<CollectorProblemException>()).Which;
        problem.Status.Should().Be(413);
        problem.Type.Should().Be(ProblemTypes.BodyTooLarge);
        stream.BytesRead.Should().Be(0);
    }

    [Test]
    public async Task ReadAsync_UndeclaredBodyOverLimit_IsRefusedWith413()
    {
        var act = async () => await RequestBodyReader.ReadAsync(Request(new TrickleStream(new byte[1025]), null), 1024, default);

        (await act.Should().ThrowAsync<CollectorProblemException>()).Which.Status.Should().Be(413);
    }

    [Test]
    public async Task ReadAsync_UndeclaredBodyAtLimit_IsRead()
    {
        var (_, length) = await RequestBodyReader.ReadAsync(Request(new TrickleStream(new byte[1024]), null), 1024, default);

        length.Should().Be(1024);
    }

    [Test]
    public async Task ReadAsync_ShorterThanDeclared_IsRefusedWith400()
    {
        var act = async () => await RequestBodyReader.ReadAsync(Request(new MemoryStream(new byte[10]), 20), 1024, default);

        (await act.Should().ThrowAsync<CollectorProblemException>()).Which.Status.Should().Be(400);
    }

    [TestCase("gzip")]
    [TestCase("GZIP")]
    [TestCase("x-gzip")]
    public async Task ReadAsync_Gzip_IsDecompressed(string encoding)
    {
        var json = Encoding.UTF8.GetBytes("""{"eventType":"batch","events":[]}""");
        var compressed = Gzip(json);

        var (buffer, length) = await RequestBodyReader.ReadAsync(Request(compressed, compressed.Length, encoding), 1024, default);

        buffer.AsSpan(0, length).ToArray().Should().Equal(json);
    }

    [Test]
    public async Task ReadAsync_GzipBomb_IsRefusedWith413WithoutInflatingIt()
    {
        // 1 GiB of zeros compresses to about 1 MiB; 100 MiB to about 100 KiB, well under the compressed limit.
        var compressed = GzipZeros(100 * 1024 * 1024);
        compressed.Length.Should().BeLessThan(1024 * 1024);
        var before = GC.GetAllocatedBytesForCurrentThread();

        var act = async () => await RequestBodyReader.ReadAsync(Request(compressed, compressed.Length, "gzip"), 1024 * 1024, default);

        var problem = (await act.Should().ThrowAsync<CollectorProblemException>()).Which;
        problem.Status.Should().Be(413);
        problem.Type.Should().Be(ProblemTypes.BodyTooLarge);
        (GC.GetAllocatedBytesForCurrentThread() - before).Should().BeLessThan(16 * 1024 * 1024, "reading stops at the limit");
    }

    [Test]
    public async Task ReadAsync_CompressedBodyOverLimit_IsRefusedWith413()
    {
        var random = new byte[4096];
        new Random(1).NextBytes(random);
        var compressed = Gzip(random); // incompressible: larger than the 2 KiB limit once compressed

        var act = async () => await RequestBodyReader.ReadAsync(Request(new TrickleStream(compressed), null, "gzip"), 2048, default);

        (await act.Should().ThrowAsync<CollectorProblemException>()).Which.Status.Should().Be(413);
    }

    [Test]
    public async Task ReadAsync_InvalidGzip_IsRefusedWith400()
    {
        var notGzip = Encoding.UTF8.GetBytes("""{"eventType":"x"}""");

        var act = async () => await RequestBodyReader.ReadAsync(Request(notGzip, notGzip.Length, "gzip"), 1024, default);

        var problem = (await act.Should().ThrowAsync<CollectorProblemException>()).Which;
        problem.Status.Should().Be(400);
        problem.Message.Should().Contain("gzip");
    }

    [TestCase(null, true)]
    [TestCase("", true)]
    [TestCase("identity", true)]
    [TestCase("gzip", true)]
    [TestCase("br", false)]
    [TestCase("deflate", false)]
    [TestCase("gzip, br", false)]
    public void IsSupportedEncoding_KnowsWhatItCanRead(string? encoding, bool supported)
    {
        RequestBodyReader.IsSupportedEncoding(encoding).Should().Be(supported);
    }

    [Test]
    public async Task ReadAsync_DeclaredLengthExactlyTheLimit_ReadsTheBody()
    {
        var body = new byte[1024];

        var (_, length) = await RequestBodyReader.ReadAsync(Request(body, 1024), 1024, default);

        length.Should().Be(1024);
    }

    [Test]
    public async Task ReadAsync_GzipLargerThanTheLimitThatInflatesToLess_IsRefusedWith413()
    {
        // Random bytes do not compress: the gzip stream is its content plus framing, so over the limit while the
        // content is under it. The limit holds before decompression as well as after.
        var content = RandomBytes(1024 - 8);
        var compressed = Gzip(content, CompressionLevel.NoCompression);
        compressed.Length.Should().BeGreaterThan(1024);

        var act = async () => await RequestBodyReader.ReadAsync(Request(new TrickleStream(compressed), null, "gzip"), 1024, default);

        (await act.Should().ThrowAsync<CollectorProblemException>()).Which.Status.Should().Be(413);
    }

    [Test]
    public async Task ReadAsync_GzipOfExactlyTheLimit_ReadsTheBody()
    {
        // The content length whose gzip stream is exactly 1,024 bytes.
        var content = Enumerable.Range(900, 124).Select(RandomBytes).First(c => Gzip(c, CompressionLevel.NoCompression).Length == 1024);
        var compressed = Gzip(content, CompressionLevel.NoCompression);

        var (buffer, length) = await RequestBodyReader.ReadAsync(Request(new TrickleStream(compressed), null, "gzip"), 1024, default);

        buffer.AsSpan(0, length).SequenceEqual(content).Should().BeTrue();
    }

    private static byte[] RandomBytes(int count)
    {
        var bytes = new byte[count];
        new Random(count).NextBytes(bytes);
        return bytes;
    }

    private static byte[] Gzip(byte[] data, CompressionLevel level)
    {
        using var output = new MemoryStream();
        using (var gzip = new GZipStream(output, level))
        {
            gzip.Write(data);
        }

        return output.ToArray();
    }

    private static CollectorRequest Request(byte[] body, long? contentLength, string? encoding = null) =>
        Request(new MemoryStream(body), contentLength, encoding);

    private static CollectorRequest Request(Stream body, long? contentLength, string? encoding = null) =>
        new() { Body = body, ContentLength = contentLength, ContentEncoding = encoding };

    private static byte[] Gzip(byte[] data)
    {
        using var output = new MemoryStream();
        using (var gzip = new GZipStream(output, CompressionLevel.SmallestSize))
        {
            gzip.Write(data);
        }

        return output.ToArray();
    }

    private static byte[] GzipZeros(int count)
    {
        using var output = new MemoryStream();
        using (var gzip = new GZipStream(output, CompressionLevel.SmallestSize))
        {
            var chunk = new byte[64 * 1024];
            for (var written = 0; written < count; written += chunk.Length)
            {
                gzip.Write(chunk);
            }
        }

        return output.ToArray();
    }

    /// <summary>A stream that returns at most 7 bytes per read, like a slow network.</summary>
    private sealed class TrickleStream(byte[] data) : MemoryStream(data)
    {
        public int BytesRead { get; private set; }

        public override int Read(byte[] buffer, int offset, int count) => Count(base.Read(buffer, offset, Math.Min(count, 7)));

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            ValueTask.FromResult(Count(base.Read(buffer.Span[..Math.Min(buffer.Length, 7)])));

        private int Count(int read)
        {
            BytesRead += read;
            return read;
        }
    }
}
