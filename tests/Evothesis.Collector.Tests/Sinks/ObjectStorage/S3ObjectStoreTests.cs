using System.Security.Cryptography;
using Amazon.S3;
using Evothesis.Collector.Sinks.ObjectStorage;
using Evothesis.Collector.Sinks.S3;
using Evothesis.Collector.Tests.Support;
using Microsoft.Extensions.Logging.Abstractions;

namespace Evothesis.Collector.Tests.Sinks.ObjectStorage;

/// <summary>Against a real S3-protocol server (s3rver): bytes, headers, metadata, listing, multipart and errors.</summary>
public sealed class S3ObjectStoreTests
{
    private S3TestServer _server = null!;
    private AmazonS3Client _client = null!;

    [OneTimeSetUp]
    public async Task StartServerAsync() => _server = await S3TestServer.GetSharedAsync();

    [SetUp]
    public void SetUp() => _client = _server.CreateClient();

    [TearDown]
    public void TearDown() => _client.Dispose();

    [Test]
    public async Task PutAsync_CompatibleEndpoint_StoresExactlyTheBytesWithHeadersAndMetadata()
    {
        var bucket = await _server.CreateBucketAsync();
        var store = new S3ObjectStore(_client, bucket);
        var content = RandomNumberGenerator.GetBytes(300_000);

        await PutAsync(store, "a/b/object.ndjson.gz", content, new Dictionary<string, string> { ["event-count"] = "42" });

        store.UsesChunkEncoding.Should().BeFalse("a custom endpoint turns aws-chunked uploads off by default");
        var (bytes, response) = await _server.DownloadAsync(bucket, "a/b/object.ndjson.gz");
        bytes.Should().Equal(content, "the stored object must be the bytes sent, without aws-chunked framing");
        response.Headers.ContentType.Should().Be(ObjectStorageEventSink.ContentType);
        response.Headers.ContentEncoding.Should().Be("gzip");
        response.Metadata["event-count"].Should().Be("42");
    }

    [Test]
    public async Task PutAsync_ChunkEncodingOnAServerThatStoresTheFraming_FailsAndLeavesNoObject()
    {
        var bucket = await _server.CreateBucketAsync();
        var store = new S3ObjectStore(_client, bucket, new S3Options { UseChunkEncoding = true });

        var act = () => PutAsync(store, "k.ndjson.gz", RandomNumberGenerator.GetBytes(10_000));

        var thrown = await act.Should().ThrowAsync<ObjectStoreException>();
        thrown.Which.Error.Should().Be(ObjectStoreError.IntegrityCheckFailed);
        thrown.Which.Message.Should().Contain("UseChunkEncoding");
        (await _server.ListKeysAsync(bucket)).Should().BeEmpty("a corrupted object must not stay under its key");
    }

    [Test]
    public async Task GetAsync_StoredObject_ReturnsContentHeadersAndMetadata()
    {
        var bucket = await _server.CreateBucketAsync();
        var store = new S3ObjectStore(_client, bucket);
        var content = RandomNumberGenerator.GetBytes(1000);
        await PutAsync(store, "x/y.ndjson.gz", content, new Dictionary<string, string> { ["event-count"] = "7" });

        await using var stored = await store.GetAsync("x/y.ndjson.gz", CancellationToken.None);
        using var buffer = new MemoryStream();
        await stored.Content.CopyToAsync(buffer);

        buffer.ToArray().Should().Equal(content, "the SDK must not decompress a gzip-encoded object");
        stored.Length.Should().Be(1000);
        stored.ContentEncoding.Should().Be("gzip");
        stored.ContentType.Should().Be(ObjectStorageEventSink.ContentType);
        stored.Metadata.Should().Contain("event-count", "7");
    }

    [Test]
    public async Task PutAsync_AboveTheMultipartThreshold_UploadsInPartsAndStoresExactlyTheBytes()
    {
        var bucket = await _server.CreateBucketAsync();
        var options = new S3Options { PartSize = S3Options.MinimumPartSize, MultipartThreshold = S3Options.MinimumPartSize };
        var store = new S3ObjectStore(_client, bucket, options);
        var content = RandomNumberGenerator.GetBytes((int)(S3Options.MinimumPartSize * 2) + 12_345);

        await PutAsync(store, "big.ndjson.gz", content, new Dictionary<string, string> { ["event-count"] = "3" });

        var (bytes, response) = await _server.DownloadAsync(bucket, "big.ndjson.gz");
        bytes.Should().Equal(content);
        response.Headers.ContentEncoding.Should().Be("gzip");
        response.Metadata["event-count"].Should().Be("3");
    }

    [Test]
    public async Task PutAsync_MultipartWithChunkEncodingOnAServerThatStoresTheFraming_FailsAndLeavesNoObject()
    {
        var bucket = await _server.CreateBucketAsync();
        var options = new S3Options { PartSize = S3Options.MinimumPartSize, MultipartThreshold = S3Options.MinimumPartSize, UseChunkEncoding = true };
        var store = new S3ObjectStore(_client, bucket, options);

        var act = () => PutAsync(store, "big.ndjson.gz", RandomNumberGenerator.GetBytes((int)S3Options.MinimumPartSize + 10));

        (await act.Should().ThrowAsync<ObjectStoreException>()).Which.Error.Should().Be(ObjectStoreError.IntegrityCheckFailed);
        (await _server.ListKeysAsync(bucket)).Should().BeEmpty();
    }

    [Test]
    public async Task PutAsync_StreamThatIsNotInMemory_IsUploadedFromAPooledCopy()
    {
        var bucket = await _server.CreateBucketAsync();
        var store = new S3ObjectStore(_client, bucket);
        var content = RandomNumberGenerator.GetBytes(70_000);
        var path = Path.GetTempFileName();
        try
        {
            await File.WriteAllBytesAsync(path, content);
            await using var file = File.OpenRead(path);
            await store.PutAsync(
                new ObjectPutRequest { Key = "from-file", Content = file, Length = content.Length, ContentType = "application/octet-stream" },
                CancellationToken.None);
        }
        finally
        {
            File.Delete(path);
        }

        (await _server.DownloadAsync(bucket, "from-file")).Bytes.Should().Equal(content);
    }

    [Test]
    public async Task ListAsync_MorePagesThanOne_ReturnsEveryKeyUnderThePrefixInOrder()
    {
        var bucket = await _server.CreateBucketAsync();
        var store = new S3ObjectStore(_client, bucket, null, NullLogger.Instance) { ListPageSize = 2 };
        foreach (var key in new[] { "p/c", "p/a", "p/b/deep", "p/d", "q/x" })
        {
            await PutAsync(store, key, [1, 2, 3]);
        }

        var entries = new List<ObjectEntry>();
        await foreach (var e in store.ListAsync("p/", CancellationToken.None))
        {
            entries.Add(e);
        }

        entries.Select(e => e.Key).Should().Equal("p/a", "p/b/deep", "p/c", "p/d");
        entries.Should().OnlyContain(e => e.Size == 3 && e.LastModified != null);
    }

    [Test]
    public async Task ListPrefixesAsync_ReturnsTheFoldersOneLevelDown()
    {
        var bucket = await _server.CreateBucketAsync();
        var store = new S3ObjectStore(_client, bucket, null, NullLogger.Instance) { ListPageSize = 1 };
        foreach (var key in new[] { "e/client_id=b/date=1/x", "e/client_id=a/date=1/x", "e/client_id=a/date=2/x", "e/other/x" })
        {
            await PutAsync(store, key, [1]);
        }

        var prefixes = new List<string>();
        await foreach (var p in store.ListPrefixesAsync("e/client_id=", CancellationToken.None))
        {
            prefixes.Add(p);
        }

        prefixes.Should().Equal("e/client_id=a/", "e/client_id=b/");
    }

    [Test]
    public async Task PutAsync_MissingBucket_ThrowsBucketNotFoundNamingTheBucket()
    {
        var store = new S3ObjectStore(_client, "no-such-bucket-" + Guid.NewGuid().ToString("N")[..8]);

        var act = () => PutAsync(store, "k", [1]);

        var thrown = await act.Should().ThrowAsync<ObjectStoreException>();
        thrown.Which.Error.Should().Be(ObjectStoreError.BucketNotFound);
        thrown.Which.Message.Should().Contain(store.BucketName).And.Contain("does not exist").And.Contain(_server.ServiceUrl);
    }

    [Test]
    public async Task PutAsync_UnknownAccessKey_ThrowsAccessDenied()
    {
        var bucket = await _server.CreateBucketAsync();
        using var stranger = _server.CreateClient(accessKey: "NOT-A-KEY", secretKey: "wrong");
        var store = new S3ObjectStore(stranger, bucket);

        var act = () => PutAsync(store, "k", [1]);

        var thrown = await act.Should().ThrowAsync<ObjectStoreException>();
        thrown.Which.Error.Should().Be(ObjectStoreError.AccessDenied);
        thrown.Which.Message.Should().Contain(bucket).And.Contain("access was denied").And.NotContain("wrong");
        (await _server.ListKeysAsync(bucket)).Should().BeEmpty();
    }

    [Test]
    public async Task GetAsync_MissingKey_ThrowsObjectNotFound()
    {
        var bucket = await _server.CreateBucketAsync();
        var store = new S3ObjectStore(_client, bucket);

        var act = async () => await store.GetAsync("missing", CancellationToken.None);

        (await act.Should().ThrowAsync<ObjectStoreException>()).Which.Error.Should().Be(ObjectStoreError.ObjectNotFound);
    }

    [Test]
    public async Task ListAsync_MissingBucket_ThrowsBucketNotFound()
    {
        var store = new S3ObjectStore(_client, "no-such-bucket-" + Guid.NewGuid().ToString("N")[..8]);

        var act = async () =>
        {
            await foreach (var _ in store.ListAsync(string.Empty, CancellationToken.None))
            {
            }
        };

        (await act.Should().ThrowAsync<ObjectStoreException>()).Which.Error.Should().Be(ObjectStoreError.BucketNotFound);
    }

    [Test]
    public void UsesChunkEncoding_Default_IsOnForAwsAndOffForACustomEndpoint()
    {
        using var aws = new AmazonS3Client("key", "secret", Amazon.RegionEndpoint.EUWest1);

        new S3ObjectStore(aws, "b").UsesChunkEncoding.Should().BeTrue();
        new S3ObjectStore(aws, "b", new S3Options { ServiceUrl = "http://minio:9000" }).UsesChunkEncoding.Should().BeFalse(
            "the SDK may apply AWS_ENDPOINT_URL_S3 without setting the client's ServiceURL");
        new S3ObjectStore(_client, "b").UsesChunkEncoding.Should().BeFalse();
        new S3ObjectStore(_client, "b", new S3Options { UseChunkEncoding = true }).UsesChunkEncoding.Should().BeTrue();
    }

    private static async Task PutAsync(S3ObjectStore store, string key, byte[] content, Dictionary<string, string>? metadata = null)
    {
        using var stream = new MemoryStream(content);
        await store.PutAsync(
            new ObjectPutRequest
            {
                Key = key,
                Content = stream,
                Length = content.Length,
                ContentType = ObjectStorageEventSink.ContentType,
                ContentEncoding = "gzip",
                Metadata = metadata ?? [],
            },
            CancellationToken.None);
    }
}
