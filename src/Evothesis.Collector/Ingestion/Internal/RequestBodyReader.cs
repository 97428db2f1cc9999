using System.Buffers;
using System.IO.Compression;

namespace Evothesis.Collector.Ingestion.Internal;

/// <summary>
/// Reads a request body into memory, decompressing gzip, and refuses it as soon as it passes the size
/// limit: a gzip bomb costs at most the limit in memory, never its decompressed size.
/// </summary>
internal static class RequestBodyReader
{
    private const int InitialBufferSize = 16 * 1024;

    /// <summary>Reads the body.</summary>
    /// <returns>The buffer (owned by the caller; payload slices keep referring to it) and the body length.</returns>
    /// <exception cref="CollectorProblemException">The body is too large, or not valid gzip.</exception>
    public static async ValueTask<(byte[] Buffer, int Length)> ReadAsync(
        CollectorRequest request,
        int maxBytes,
        CancellationToken cancellationToken)
    {
        var gzip = IsGzip(request.ContentEncoding);
        if (request.ContentLength > maxBytes)
        {
            throw TooLarge(maxBytes);
        }

        if (!gzip)
        {
            // The buffer grows with the bytes that arrive, never to the Content-Length a sender promises: a slow or
            // lying sender holds no more memory than it has sent.
            var body = await ReadToLimitAsync(request.Body, maxBytes, cancellationToken).ConfigureAwait(false);
            if (request.ContentLength is { } declared && body.Length < declared)
            {
                throw new CollectorProblemException(400, ProblemTypes.MalformedBody, "Malformed body", "The body is shorter than its Content-Length.");
            }

            return body;
        }

        // The compressed stream is limited too: a body that is large before decompression is refused
        // without being inflated.
        var compressed = new LimitedReadStream(request.Body, maxBytes);
        var inflater = new GZipStream(compressed, CompressionMode.Decompress, leaveOpen: true);
        try
        {
            await using (inflater.ConfigureAwait(false))
            {
                return await ReadToLimitAsync(inflater, maxBytes, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (InvalidDataException)
        {
            throw new CollectorProblemException(400, ProblemTypes.MalformedBody, "Malformed body", "The body is not valid gzip.");
        }
        catch (LimitedReadStream.LimitExceededException)
        {
            throw TooLarge(maxBytes);
        }
    }

    /// <summary>Tells whether a <c>Content-Encoding</c> is supported.</summary>
    public static bool IsSupportedEncoding(string? contentEncoding) =>
        string.IsNullOrWhiteSpace(contentEncoding)
        || contentEncoding.Trim().Equals("identity", StringComparison.OrdinalIgnoreCase)
        || IsGzip(contentEncoding);

    private static bool IsGzip(string? contentEncoding) =>
        contentEncoding is not null
        && (contentEncoding.Trim().Equals("gzip", StringComparison.OrdinalIgnoreCase)
            || contentEncoding.Trim().Equals("x-gzip", StringComparison.OrdinalIgnoreCase));

    private static async ValueTask<(byte[] Buffer, int Length)> ReadToLimitAsync(Stream source, int maxBytes, CancellationToken cancellationToken)
    {
        var pooled = ArrayPool<byte>.Shared.Rent(Math.Min(InitialBufferSize, maxBytes + 1));
        var length = 0;
        try
        {
            while (true)
            {
                if (length == pooled.Length)
                {
                    if (length > maxBytes)
                    {
                        throw TooLarge(maxBytes);
                    }

                    var larger = ArrayPool<byte>.Shared.Rent(Math.Min(pooled.Length * 2, maxBytes + 1));
                    pooled.AsSpan(0, length).CopyTo(larger);
                    ArrayPool<byte>.Shared.Return(pooled);
                    pooled = larger;
                }

                var read = await source.ReadAsync(pooled.AsMemory(length), cancellationToken).ConfigureAwait(false);
                if (read == 0)
                {
                    break;
                }

                length += read;
                if (length > maxBytes)
                {
                    throw TooLarge(maxBytes);
                }
            }

            return (pooled.AsSpan(0, length).ToArray(), length);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(pooled);
        }
    }

    private static CollectorProblemException TooLarge(int maxBytes) => new(
        413,
        ProblemTypes.BodyTooLarge,
        "Body too large",
        $"The body may be at most {maxBytes} bytes, after decompression as well as before.");

    /// <summary>A read-only view of a stream that throws once more than a set number of bytes was read.</summary>
    private sealed class LimitedReadStream(Stream inner, long limit) : Stream
    {
        private long _read;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position
        {
            get => _read;
            set => throw new NotSupportedException();
        }

        public override int Read(byte[] buffer, int offset, int count) => Count(inner.Read(buffer, offset, count));

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            Count(await inner.ReadAsync(buffer, cancellationToken).ConfigureAwait(false));

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        private int Count(int read)
        {
            _read += read;
            if (_read > limit)
            {
                throw new LimitExceededException();
            }

            return read;
        }

        public sealed class LimitExceededException : IOException;
    }
}
