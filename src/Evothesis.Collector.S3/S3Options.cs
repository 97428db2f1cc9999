namespace Evothesis.Collector.Sinks.S3;

/// <summary>
/// S3 object storage, bound from <c>Evothesis:S3</c>. Each bucket setting also reads the environment
/// variable the original collector used when the <c>Evothesis</c> key is unset: <c>CLIENT_S3_BUCKET</c>,
/// <c>BACKUP_S3_BUCKET</c>, <c>AWS_ENDPOINT_URL_S3</c> and <c>AWS_REGION</c>.
/// </summary>
/// <remarks>
/// <para>
/// With <see cref="ClientBucket"/> set, every batch is written to it as one gzip NDJSON object per client
/// (the primary object sink); without it, the same layout is written to the local folder of
/// <see cref="ObjectStorage.StorageOptions.Path"/> when no other sink is registered.
/// </para>
/// <para>
/// With <see cref="BackupBucket"/> set, every batch is also written there in full, in the same layout: a
/// complete copy from which a lost database can be rebuilt (see the replay tool). A request is acknowledged
/// only once every sink, the backup included, has its batch.
/// </para>
/// <para>
/// The S3 client is the <c>IAmazonS3</c> registered in the service provider, if any; otherwise one built from
/// these options and the standard AWS settings (<c>AWS_ACCESS_KEY_ID</c>/<c>AWS_SECRET_ACCESS_KEY</c> from
/// configuration, else the SDK's default credential chain).
/// </para>
/// </remarks>
public sealed class S3Options
{
    /// <summary>The configuration section the options are bound from: <c>Evothesis:S3</c>.</summary>
    public const string SectionName = "Evothesis:S3";

    /// <summary>The smallest part S3 accepts in a multipart upload (except the last): 5 MiB.</summary>
    public const long MinimumPartSize = 5L * 1024 * 1024;

    /// <summary>The largest part or single upload S3 accepts: 5 GiB.</summary>
    public const long MaximumPartSize = 5L * 1024 * 1024 * 1024;

    /// <summary>
    /// Gets or sets the client bucket: the data lake every batch is written to, partitioned by client, date
    /// and hour. Alias: <c>CLIENT_S3_BUCKET</c>. The default is none (events go to the local folder).
    /// </summary>
    public string? ClientBucket { get; set; }

    /// <summary>
    /// Gets or sets the backup bucket, which receives a full copy of every batch. Alias: <c>BACKUP_S3_BUCKET</c>.
    /// The default is none.
    /// </summary>
    public string? BackupBucket { get; set; }

    /// <summary>
    /// Gets or sets the key prefix in the client bucket and in clients' dedicated buckets, such as
    /// <c>events</c>. The default is none: partitions start at the bucket root.
    /// </summary>
    public string? Prefix { get; set; }

    /// <summary>Gets or sets the key prefix in the backup bucket. The default is none.</summary>
    public string? BackupPrefix { get; set; }

    /// <summary>
    /// Gets or sets a value indicating whether a client whose configuration names its own bucket
    /// (<c>s3_bucket</c>) has its objects written there instead of to <see cref="ClientBucket"/>. The backup
    /// bucket always receives every client. The default is <see langword="true"/>.
    /// </summary>
    public bool UseClientBuckets { get; set; } = true;

    /// <summary>
    /// Gets or sets the endpoint of an S3-compatible store (MinIO, Ceph, R2, s3rver), such as
    /// <c>http://127.0.0.1:9000</c>. Alias: <c>AWS_ENDPOINT_URL_S3</c>. The default is none: AWS S3 in
    /// <see cref="Region"/>.
    /// </summary>
    public string? ServiceUrl { get; set; }

    /// <summary>
    /// Gets or sets the AWS region, such as <c>eu-west-1</c>. Alias: <c>AWS_REGION</c>. The default is none:
    /// the SDK's region chain (environment, profile, instance metadata); <c>us-east-1</c> for signing with a
    /// <see cref="ServiceUrl"/>.
    /// </summary>
    public string? Region { get; set; }

    /// <summary>
    /// Gets or sets a value indicating whether buckets are addressed by path (<c>http://host/bucket/key</c>)
    /// instead of by virtual host. The default is <see langword="true"/> with a <see cref="ServiceUrl"/>
    /// (what most S3-compatible stores need) and <see langword="false"/> for AWS.
    /// </summary>
    public bool? ForcePathStyle { get; set; }

    /// <summary>
    /// Gets or sets a value indicating whether uploads use <c>aws-chunked</c> content encoding (streaming
    /// signatures and trailing checksums). Some S3-compatible servers store the chunk framing inside the
    /// object, which corrupts it silently. The default is <see langword="false"/> when a custom endpoint is
    /// set (<see cref="ServiceUrl"/>, or the S3 client's own <c>ServiceURL</c>) and <see langword="true"/> for AWS.
    /// </summary>
    public bool? UseChunkEncoding { get; set; }

    /// <summary>
    /// Gets or sets a value indicating whether every upload is checked against the MD5 ETag the store returns
    /// (for unencrypted and SSE-S3 objects, where S3 defines the ETag as the MD5 of the content). A mismatch
    /// removes the object and fails the write. Turn it off on FIPS-only hosts where MD5 is unavailable. The
    /// default is <see langword="true"/>.
    /// </summary>
    public bool VerifyIntegrity { get; set; } = true;

    /// <summary>
    /// Gets or sets the compressed size in bytes from which an object is uploaded in parts. The default is
    /// 16 MiB; at least <see cref="PartSize"/>.
    /// </summary>
    public long MultipartThreshold { get; set; } = 16L * 1024 * 1024;

    /// <summary>
    /// Gets or sets the size in bytes of each part of a multipart upload (the last may be smaller). The default
    /// is 8 MiB; S3 requires 5 MiB to 5 GiB.
    /// </summary>
    public long PartSize { get; set; } = 8L * 1024 * 1024;

    /// <summary>
    /// Gets or sets how many objects (one per client in a batch) or parts are uploaded at the same time. The
    /// default is 4.
    /// </summary>
    public int MaxConcurrentUploads { get; set; } = 4;

    /// <summary>
    /// Gets or sets how much an object may hold before it is closed and written: the size of its events as they wait in
    /// the write-ahead spool (uncompressed; the gzip NDJSON object is typically 5 to 10 times smaller). Applies to the
    /// client bucket, the dedicated buckets and the backup bucket; a batch is held in memory until it is written. The
    /// default is 16 MiB.
    /// </summary>
    /// <remarks>
    /// A data lake reads few large objects faster and cheaper than many small ones (one PUT per object, one GET per
    /// object and query). An object is one batch of each client, closed by this size or by <see cref="ObjectMaxAge"/>,
    /// whichever comes first.
    /// </remarks>
    public long ObjectMaxBytes { get; set; } = 16L * 1024 * 1024;

    /// <summary>
    /// Gets or sets how long the oldest event of an object may wait for more events to join it before the object is
    /// closed and written. Events are safe in the write-ahead spool meanwhile; they are only later in the bucket. Zero
    /// writes what is waiting at once. The default is 30 seconds.
    /// </summary>
    /// <remarks>
    /// When the client bucket is the first sink (no PostgreSQL sink registered), <c>GET /events/recent</c> and the
    /// <c>Bulk inserted</c> log line follow its writes, so they lag by up to this long too; in
    /// <see cref="Batching.AckMode.Committed"/> mode, whose answer waits for the first sink, that sink writes at once.
    /// </remarks>
    public TimeSpan ObjectMaxAge { get; set; } = TimeSpan.FromSeconds(30);
}
