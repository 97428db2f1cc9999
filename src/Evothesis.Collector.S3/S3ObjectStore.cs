using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using System.Net;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;
using Evothesis.Collector.Sinks.ObjectStorage;
using Evothesis.Collector.Sinks.ObjectStorage.Internal;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Evothesis.Collector.Sinks.S3;

/// <summary>
/// An <see cref="IObjectStore"/> on one S3 bucket (AWS or an S3-compatible store), through AWSSDK.S3.
/// </summary>
/// <remarks>
/// <para>
/// Content is uploaded from the caller's buffer without copying when it is an in-memory stream; objects from
/// <see cref="S3Options.MultipartThreshold"/> up are uploaded in parts of <see cref="S3Options.PartSize"/>,
/// several at a time, and an upload that fails is aborted so no parts linger.
/// </para>
/// <para>
/// Failures are <see cref="ObjectStoreException"/>s that name the bucket and say what to fix; a missing
/// bucket and refused credentials are told apart (<see cref="ObjectStoreError"/>).
/// </para>
/// </remarks>
internal sealed class S3ObjectStore : IObjectStore
{

    private static readonly SearchValues<char> HexDigits = SearchValues.Create("0123456789abcdefABCDEF");

    private readonly IAmazonS3 _client;
    private readonly bool _useChunkEncoding;
    private readonly bool _verifyIntegrity;
    private readonly long _multipartThreshold;
    private readonly long _partSize;
    private readonly int _maxConcurrentParts;
    private readonly ILogger _logger;

    /// <summary>Initializes a new instance of the <see cref="S3ObjectStore"/> class.</summary>
    /// <param name="client">The S3 client; not disposed by the store.</param>
    /// <param name="bucketName">The bucket.</param>
    /// <param name="options">
    /// The transfer settings (<see cref="S3Options.UseChunkEncoding"/>, <see cref="S3Options.VerifyIntegrity"/>,
    /// <see cref="S3Options.MultipartThreshold"/>, <see cref="S3Options.PartSize"/>,
    /// <see cref="S3Options.MaxConcurrentUploads"/>); the bucket settings are not used. Defaults when
    /// <see langword="null"/>.
    /// </param>
    public S3ObjectStore(IAmazonS3 client, string bucketName, S3Options? options = null)
        : this(client, bucketName, options, NullLogger.Instance)
    {
    }

    internal S3ObjectStore(IAmazonS3 client, string bucketName, S3Options? options, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentException.ThrowIfNullOrWhiteSpace(bucketName);
        options ??= new S3Options();
        ArgumentOutOfRangeException.ThrowIfLessThan(options.PartSize, S3Options.MinimumPartSize, nameof(options));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(options.PartSize, S3Options.MaximumPartSize, nameof(options));
        ArgumentOutOfRangeException.ThrowIfLessThan(options.MaxConcurrentUploads, 1, nameof(options));

        _client = client;
        BucketName = bucketName;
        Name = "s3:" + bucketName;

        // The aws-chunked trap: S3-compatible servers may keep the chunk framing as object content. A custom
        // endpoint shows either in the client's config or in the options (AWS_ENDPOINT_URL_S3, which the SDK
        // may also apply on its own without setting ServiceURL).
        _useChunkEncoding = options.UseChunkEncoding
            ?? (string.IsNullOrEmpty(client.Config.ServiceURL) && string.IsNullOrWhiteSpace(options.ServiceUrl));
        _verifyIntegrity = options.VerifyIntegrity;
        _partSize = options.PartSize;
        _multipartThreshold = Math.Max(options.MultipartThreshold, options.PartSize);
        _maxConcurrentParts = options.MaxConcurrentUploads;
        _logger = logger;
    }

    /// <inheritdoc />
    public string Name { get; }

    /// <summary>Gets the bucket.</summary>
    public string BucketName { get; }

    /// <summary>Gets a value indicating whether uploads use <c>aws-chunked</c> content encoding.</summary>
    public bool UsesChunkEncoding => _useChunkEncoding;

    // Keys per list request: S3's maximum. Tests shrink it to exercise paging.
    internal int ListPageSize { get; init; } = 1000;

    /// <inheritdoc />
    public async ValueTask PutAsync(ObjectPutRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentException.ThrowIfNullOrWhiteSpace(request.Key);

        // The upload reads from one contiguous buffer: the caller's when it has one (the sink's pooled
        // buffer), otherwise a pooled copy.
        PooledBufferStream? copy = null;
        try
        {
            ArraySegment<byte> content;
            if (!TryGetBuffer(request.Content, out content))
            {
                copy = new PooledBufferStream(checked((int)Math.Max(request.Length, 1)));
                await request.Content.CopyToAsync(copy, cancellationToken).ConfigureAwait(false);
                _ = MemoryMarshal.TryGetArray(copy.WrittenMemory, out content);
            }

            if (content.Count != request.Length)
            {
                throw new ArgumentException(
                    $"The content of '{request.Key}' is {content.Count} bytes long, not the {request.Length} bytes the request states.",
                    nameof(request));
            }

            if (content.Count < _multipartThreshold)
            {
                await PutSingleAsync(request, content, cancellationToken).ConfigureAwait(false);
            }
            else
            {
                await PutMultipartAsync(request, content, cancellationToken).ConfigureAwait(false);
            }
        }
        finally
        {
            copy?.Dispose();
        }
    }

    /// <inheritdoc />
    public async IAsyncEnumerable<ObjectEntry> ListAsync(string prefix, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(prefix);
        string? continuation = null;
        do
        {
            var page = await ListPageAsync(prefix, continuation, startAfter: null, ListPageSize, cancellationToken).ConfigureAwait(false);
            foreach (var o in page.S3Objects ?? [])
            {
                DateTimeOffset? modified = o.LastModified is { } m ? new DateTimeOffset(DateTime.SpecifyKind(m.ToUniversalTime(), DateTimeKind.Utc)) : null;
                yield return new ObjectEntry(o.Key, o.Size ?? 0, modified);
            }

            continuation = page.IsTruncated == true ? page.NextContinuationToken : null;
        }
        while (continuation is not null);
    }

    /// <inheritdoc />
    /// <remarks>
    /// Walks the keys one prefix at a time (list one key, then continue after everything under its prefix)
    /// instead of asking for common prefixes with a delimiter: some S3-compatible servers, s3rver among them,
    /// report common prefixes only for keys one level below the prefix. One request per prefix found.
    /// </remarks>
    public async IAsyncEnumerable<string> ListPrefixesAsync(string prefix, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(prefix);
        string? startAfter = null;
        while (true)
        {
            var page = await ListPageAsync(prefix, continuation: null, startAfter, maxKeys: 1, cancellationToken).ConfigureAwait(false);
            if (page.S3Objects is not [var first, ..])
            {
                yield break;
            }

            var slash = first.Key.IndexOf('/', prefix.Length);
            if (slash < 0)
            {
                // An object directly under the prefix, not in a "folder": step over it.
                startAfter = first.Key;
                continue;
            }

            var found = first.Key[..(slash + 1)];
            yield return found;

            // Every key under "x/" sorts before "x0" ('/' is 0x2F, '0' is 0x30), and nothing in between is under "x/".
            startAfter = found[..^1] + "0";
        }
    }

    /// <inheritdoc />
    public async ValueTask<StoredObject> GetAsync(string key, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(key);
        GetObjectResponse response;
        try
        {
            response = await _client.GetObjectAsync(new GetObjectRequest { BucketName = BucketName, Key = key }, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (IsStoreFailure(ex, cancellationToken))
        {
            throw Translate(ex, key, "read");
        }

        var metadata = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var name in response.Metadata.Keys)
        {
            var shortName = name.StartsWith("x-amz-meta-", StringComparison.OrdinalIgnoreCase) ? name["x-amz-meta-".Length..] : name;
            metadata[shortName.ToLowerInvariant()] = response.Metadata[name];
        }

        return new StoredObject(
            key,
            response.ResponseStream,
            response.ContentLength,
            response.Headers.ContentType,
            response.Headers.ContentEncoding,
            metadata);
    }

    private async ValueTask PutSingleAsync(ObjectPutRequest request, ArraySegment<byte> content, CancellationToken cancellationToken)
    {
        using var body = new MemoryStream(content.Array!, content.Offset, content.Count, writable: false);
        var put = new PutObjectRequest
        {
            BucketName = BucketName,
            Key = request.Key,
            InputStream = body,
            AutoCloseStream = false,
            ContentType = request.ContentType,
            UseChunkEncoding = _useChunkEncoding,
        };
        put.Headers.ContentLength = content.Count;
        if (request.ContentEncoding is not null)
        {
            put.Headers.ContentEncoding = request.ContentEncoding;
        }

        foreach (var (name, value) in request.Metadata)
        {
            put.Metadata[name] = value;
        }

        PutObjectResponse response;
        try
        {
            response = await _client.PutObjectAsync(put, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (IsStoreFailure(ex, cancellationToken))
        {
            throw Translate(ex, request.Key, "write");
        }

        if (_verifyIntegrity && IsMd5ETag(response.ETag, response.ServerSideEncryptionMethod, response.ServerSideEncryptionCustomerMethod)
            && !ETagEquals(response.ETag, Md5(content)))
        {
            await DeleteQuietlyAsync(request.Key).ConfigureAwait(false);
            throw IntegrityFailure(request.Key, response.ETag);
        }
    }

    private async ValueTask PutMultipartAsync(ObjectPutRequest request, ArraySegment<byte> content, CancellationToken cancellationToken)
    {
        var initiate = new InitiateMultipartUploadRequest
        {
            BucketName = BucketName,
            Key = request.Key,
            ContentType = request.ContentType,
        };
        if (request.ContentEncoding is not null)
        {
            initiate.Headers.ContentEncoding = request.ContentEncoding;
        }

        foreach (var (name, value) in request.Metadata)
        {
            initiate.Metadata[name] = value;
        }

        string uploadId;
        try
        {
            uploadId = (await _client.InitiateMultipartUploadAsync(initiate, cancellationToken).ConfigureAwait(false)).UploadId;
        }
        catch (Exception ex) when (IsStoreFailure(ex, cancellationToken))
        {
            throw Translate(ex, request.Key, "start a multipart upload of");
        }

        var partCount = (int)((content.Count + _partSize - 1) / _partSize);
        ObjectStorageLog.MultipartUpload(_logger, request.Key, Name, content.Count, partCount);
        var parts = new PartETag[partCount];
        CompleteMultipartUploadResponse completed;
        try
        {
            await Parallel.ForAsync(
                0,
                partCount,
                new ParallelOptions { MaxDegreeOfParallelism = _maxConcurrentParts, CancellationToken = cancellationToken },
                async (index, token) =>
                {
                    var offset = index * _partSize;
                    var length = (int)Math.Min(_partSize, content.Count - offset);
                    var slice = content.Slice((int)offset, length);
                    parts[index] = await UploadPartAsync(request.Key, uploadId, index + 1, slice, index == partCount - 1, token).ConfigureAwait(false);
                }).ConfigureAwait(false);

            completed = await _client.CompleteMultipartUploadAsync(
                new CompleteMultipartUploadRequest
                {
                    BucketName = BucketName,
                    Key = request.Key,
                    UploadId = uploadId,
                    PartETags = [.. parts],
                },
                cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            // Until the upload is completed its parts are stored (and billed) apart from any object: release them.
            await AbortQuietlyAsync(request.Key, uploadId).ConfigureAwait(false);
            if (ex is ObjectStoreException || !IsStoreFailure(ex, cancellationToken))
            {
                throw;
            }

            throw Translate(ex, request.Key, "complete the multipart upload of");
        }

        // S3 defines a multipart ETag as the MD5 of the parts' binary MD5s, "-" and the part count; stores that
        // answer in another form are checked part by part only.
        if (_verifyIntegrity && completed.ETag is { } etag && etag.Trim('"').Contains('-', StringComparison.Ordinal)
            && completed.ServerSideEncryptionMethod != ServerSideEncryptionMethod.AWSKMS
            && completed.ServerSideEncryptionMethod != ServerSideEncryptionMethod.AWSKMSDSSE
            && !ETagEquals(etag, MultipartETag(parts)))
        {
            await DeleteQuietlyAsync(request.Key).ConfigureAwait(false);
            throw IntegrityFailure(request.Key, etag);
        }
    }

    private async Task<PartETag> UploadPartAsync(string key, string uploadId, int partNumber, ArraySegment<byte> slice, bool isLast, CancellationToken cancellationToken)
    {
        using var body = new MemoryStream(slice.Array!, slice.Offset, slice.Count, writable: false);
        var upload = new UploadPartRequest
        {
            BucketName = BucketName,
            Key = key,
            UploadId = uploadId,
            PartNumber = partNumber,
            PartSize = slice.Count,
            InputStream = body,
            IsLastPart = isLast,
            UseChunkEncoding = _useChunkEncoding,
        };

        UploadPartResponse response;
        try
        {
            response = await _client.UploadPartAsync(upload, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (IsStoreFailure(ex, cancellationToken))
        {
            throw Translate(ex, key, $"upload part {partNumber} of");
        }

        if (_verifyIntegrity && IsMd5ETag(response.ETag, response.ServerSideEncryptionMethod, null) && !ETagEquals(response.ETag, Md5(slice)))
        {
            throw IntegrityFailure(key, response.ETag);
        }

        return new PartETag(partNumber, response.ETag);
    }

    private async Task<ListObjectsV2Response> ListPageAsync(
        string prefix,
        string? continuation,
        string? startAfter,
        int maxKeys,
        CancellationToken cancellationToken)
    {
        try
        {
            return await _client.ListObjectsV2Async(
                new ListObjectsV2Request
                {
                    BucketName = BucketName,
                    Prefix = prefix.Length == 0 ? null : prefix,
                    ContinuationToken = continuation,
                    StartAfter = startAfter,
                    MaxKeys = maxKeys,
                },
                cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (IsStoreFailure(ex, cancellationToken))
        {
            throw Translate(ex, key: null, "list");
        }
    }

    private async ValueTask AbortQuietlyAsync(string key, string uploadId)
    {
        // Not tied to the write's token: a cancelled write must still release its parts. Bounded, so a dead
        // endpoint cannot hold the flusher; S3 lifecycle rules ("abort incomplete multipart uploads") catch the rest.
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        try
        {
            await _client.AbortMultipartUploadAsync(
                new AbortMultipartUploadRequest { BucketName = BucketName, Key = key, UploadId = uploadId },
                timeout.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is AmazonServiceException or AmazonClientException or HttpRequestException or IOException or OperationCanceledException)
        {
            ObjectStorageLog.AbortFailed(_logger, ex, key, Name);
        }
    }

    private async ValueTask DeleteQuietlyAsync(string key)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        try
        {
            await _client.DeleteObjectAsync(new DeleteObjectRequest { BucketName = BucketName, Key = key }, timeout.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is AmazonServiceException or AmazonClientException or HttpRequestException or IOException or OperationCanceledException)
        {
            ObjectStorageLog.DeleteFailed(_logger, ex, key, Name);
        }
    }

    private static bool TryGetBuffer(Stream stream, out ArraySegment<byte> content)
    {
        switch (stream)
        {
            case PooledBufferStream pooled when MemoryMarshal.TryGetArray(pooled.WrittenMemory, out var all):
                content = all.Slice((int)pooled.Position);
                return true;
            case MemoryStream memory when memory.TryGetBuffer(out var buffer):
                content = buffer.Slice((int)memory.Position);
                return true;
            default:
                content = default;
                return false;
        }
    }

    // Integrity is the purpose here, not secrecy: S3 defines ETags with MD5.
    [SuppressMessage("Security", "CA5351:Do Not Use Broken Cryptographic Algorithms", Justification = "S3 ETags are MD5 digests; used as a checksum only.")]
    private static byte[] Md5(ArraySegment<byte> content) => MD5.HashData(content);

    [SuppressMessage("Security", "CA5351:Do Not Use Broken Cryptographic Algorithms", Justification = "S3 ETags are MD5 digests; used as a checksum only.")]
    private static string MultipartETag(PartETag[] parts)
    {
        var digests = ArrayPool<byte>.Shared.Rent(parts.Length * 16);
        try
        {
            for (var i = 0; i < parts.Length; i++)
            {
                Convert.FromHexString(parts[i].ETag.Trim('"')).CopyTo(digests, i * 16);
            }

            return Convert.ToHexStringLower(MD5.HashData(digests.AsSpan(0, parts.Length * 16))) + "-" + parts.Length;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(digests);
        }
    }

    // S3: objects stored unencrypted or with SSE-S3 have the MD5 of their content as ETag; SSE-KMS and SSE-C
    // ETags are not digests of the content.
    private static bool IsMd5ETag(string? etag, ServerSideEncryptionMethod? sse, ServerSideEncryptionCustomerMethod? sseCustomer)
    {
        if (etag is null || sse == ServerSideEncryptionMethod.AWSKMS || sse == ServerSideEncryptionMethod.AWSKMSDSSE
            || (sseCustomer is not null && sseCustomer != ServerSideEncryptionCustomerMethod.None))
        {
            return false;
        }

        var value = etag.AsSpan().Trim('"');
        return value.Length == 32 && !value.ContainsAnyExcept(HexDigits);
    }

    private static bool ETagEquals(string etag, byte[] md5) => ETagEquals(etag, Convert.ToHexStringLower(md5));

    private static bool ETagEquals(string etag, string expected) =>
        etag.AsSpan().Trim('"').Equals(expected, StringComparison.OrdinalIgnoreCase);

    private static bool IsStoreFailure(Exception ex, CancellationToken cancellationToken) =>
        ex is AmazonServiceException or AmazonClientException or HttpRequestException or IOException
        || (ex is OperationCanceledException && !cancellationToken.IsCancellationRequested);

    private ObjectStoreException IntegrityFailure(string key, string? etag) =>
        new(
            ObjectStoreError.IntegrityCheckFailed,
            Name,
            key,
            $"{Name} stored different bytes for '{key}' than were sent (ETag {etag} is not the MD5 of the content), so the " +
            $"object was removed and the write failed. S3-compatible servers that do not understand aws-chunked uploads " +
            $"do this: set Evothesis:S3:UseChunkEncoding to false (chunk encoding is {(_useChunkEncoding ? "on" : "off")}).");

    private ObjectStoreException Translate(Exception ex, string? key, string operation)
    {
        var what = key is null ? $"the bucket '{BucketName}'" : $"'{key}' in the bucket '{BucketName}'";
        var endpoint = string.IsNullOrEmpty(_client.Config.ServiceURL)
            ? (_client.Config.RegionEndpoint?.SystemName is { } region ? $"AWS S3 in {region}" : "AWS S3")
            : _client.Config.ServiceURL;

        if (ex is AmazonServiceException service)
        {
            var code = service.ErrorCode;
            var detail = $"{code ?? "no error code"}, HTTP {(int)service.StatusCode}{(service.RequestId is { Length: > 0 } id ? ", request " + id : string.Empty)}";
            if (code is "NoSuchBucket" or "InvalidBucketName")
            {
                return new ObjectStoreException(
                    ObjectStoreError.BucketNotFound,
                    Name,
                    key,
                    $"Could not {operation} {what}: the bucket does not exist at {endpoint} ({detail}). Create it, or correct the bucket name " +
                    "(Evothesis:S3:ClientBucket / CLIENT_S3_BUCKET, Evothesis:S3:BackupBucket / BACKUP_S3_BUCKET, or the client's s3_bucket).",
                    ex);
            }

            if (code is "NoSuchKey" or "NotFound" || (service.StatusCode == HttpStatusCode.NotFound && key is not null && code is null))
            {
                return new ObjectStoreException(ObjectStoreError.ObjectNotFound, Name, key, $"Could not {operation} {what}: the object does not exist ({detail}).", ex);
            }

            // Temporary credentials that expired and a clock out of step are 403s that heal by themselves (the SDK
            // refreshes credentials and corrects its clock offset): reported as failures to retry, not as refusals.
            if (code is "ExpiredToken" or "TokenRefreshRequired" or "RequestTimeTooSkewed")
            {
                return new ObjectStoreException(
                    ObjectStoreError.Failed,
                    Name,
                    key,
                    $"Could not {operation} {what} at {endpoint} ({detail}): the credentials have expired or the clock is out of step; retried once they are refreshed.",
                    ex);
            }

            if (service.StatusCode == HttpStatusCode.Forbidden
                || code is "AccessDenied" or "InvalidAccessKeyId" or "SignatureDoesNotMatch" or "InvalidToken" or "AllAccessDisabled")
            {
                return new ObjectStoreException(
                    ObjectStoreError.AccessDenied,
                    Name,
                    key,
                    $"Could not {operation} {what}: access was denied at {endpoint} ({detail}). Check the AWS credentials " +
                    "(AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY or the default credential chain) and that their policy allows " +
                    "s3:PutObject, s3:GetObject and s3:ListBucket on the bucket.",
                    ex);
            }

            return new ObjectStoreException(ObjectStoreError.Failed, Name, key, $"Could not {operation} {what} at {endpoint} ({detail}): {service.Message}", ex);
        }

        return new ObjectStoreException(ObjectStoreError.Failed, Name, key, $"Could not {operation} {what}: {endpoint} could not be reached ({ex.Message}).", ex);
    }
}
