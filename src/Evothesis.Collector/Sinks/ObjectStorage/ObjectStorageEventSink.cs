using System.Buffers;
using System.Collections.Concurrent;
using System.Globalization;
using System.IO.Compression;
using System.Runtime.CompilerServices;
using System.Runtime.ExceptionServices;
using System.Text.Json;
using Evothesis.Collector.Batching;
using Evothesis.Collector.Batching.Internal;
using Evothesis.Collector.Events;
using Evothesis.Collector.Events.Internal;
using Evothesis.Collector.Sinks.ObjectStorage.Internal;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Evothesis.Collector.Sinks.ObjectStorage;

/// <summary>
/// Writes each batch as one gzip-compressed NDJSON object per client to an <see cref="IObjectStore"/>, under
/// Hive-style partitions: <c>{prefix}/client_id={id}/date=YYYY-MM-DD/hour=HH/{yyyyMMddTHHmmssZ}-{batch id}.ndjson.gz</c>.
/// </summary>
/// <remarks>
/// <para>
/// Each line is one event in the stored JSON shape (the shape of <c>GET /events/recent</c>). Objects carry
/// <c>Content-Type: application/x-ndjson</c>, <c>Content-Encoding: gzip</c> and their event count as
/// metadata (<see cref="EventCountMetadataKey"/>). Partitions follow the batch's <see cref="EventBatch.CreatedAt"/>
/// in UTC.
/// </para>
/// <para>
/// Keys are derived from the batch id, so a retried batch replaces its objects instead of duplicating them. Fed
/// from the write-ahead spool, a batch's id and time are its first record's position and append time: a batch read
/// again after a crash (holding the same records, or more when it was closed by age and more arrived since)
/// replaces the objects of the first attempt.
/// </para>
/// <para>
/// A write succeeds only when every client's object is stored. Failures are told apart:
/// <list type="bullet">
/// <item>A refusal for good — a bucket that does not exist, access denied, credentials refused — of a client's
/// dedicated bucket or of the sink's own bucket: <see cref="ClientWriteException"/> naming the refused clients, with
/// <see cref="ClientWriteException.IsPermanent"/> set (their requests are parked after
/// <see cref="BatchingOptions.ParkAfterAttempts"/> attempts). When the sink's own bucket refuses every client of the
/// batch, that is every client: the batch is parked as one, rather than tried request by request as an
/// <see cref="EventsRejectedException"/> would have it, since every request would be refused alike.</item>
/// <item>Anything else — the store unreachable, timeouts, 5xx, throttling, expired temporary credentials, and every
/// failure of a local folder (a full disk, a permission fixed in place) — is transient: <see cref="ClientWriteException"/>
/// without <see cref="ClientWriteException.IsPermanent"/> when other clients' objects were stored, otherwise the
/// failure itself; the spool consumer retries it with backoff. A refusal and an outage in one batch are an outage.</item>
/// </list>
/// Writing the batch again replaces what was stored.
/// </para>
/// <para>
/// Objects are closed by size or by age (<c>Evothesis:S3:ObjectMaxBytes</c>, <c>Evothesis:S3:ObjectMaxAge</c>;
/// <see cref="StorageOptions"/> for the local folder): the sink names that policy to its spool consumer, with one batch
/// in flight, as keys follow batch boundaries.
/// </para>
/// </remarks>
internal sealed class ObjectStorageEventSink : IEventSink, IDeliveryPolicySource
{
    /// <summary>The media type of the objects.</summary>
    public const string ContentType = "application/x-ndjson";

    /// <summary>The metadata key that carries an object's event count.</summary>
    public const string EventCountMetadataKey = "event-count";

    // A stored line is one event the collector accepted: far below this. Anything longer is not our object.
    private const int MaxLineBytes = 64 * 1024 * 1024;

    private readonly IObjectStore _store;
    private readonly string? _prefix;
    private readonly Func<string, IObjectStore>? _dedicatedStores;
    private readonly bool _warnAboutDedicatedBuckets;
    private readonly int _maxConcurrentUploads;
    private readonly ObjectStorageMetrics? _metrics;
    private readonly ILogger _logger;
    private readonly ObjectLimits _limits;

    // Dedicated buckets already reported as ignored, so the warning is logged once per bucket.
    private readonly ConcurrentDictionary<string, bool> _ignoredBuckets = new(StringComparer.Ordinal);

    /// <summary>Initializes a new instance of the <see cref="ObjectStorageEventSink"/> class.</summary>
    /// <remarks>Objects are closed at the buckets' defaults: 16 MiB or 30 seconds.</remarks>
    /// <param name="store">Where the objects go.</param>
    /// <param name="prefix">A key prefix, such as <c>events</c>; none by default.</param>
    public ObjectStorageEventSink(IObjectStore store, string? prefix = null)
        : this(store, prefix, name: null, dedicatedStores: null, warnAboutDedicatedBuckets: false, maxConcurrentUploads: 1, metrics: null, NullLogger.Instance)
    {
    }

    /// <param name="store">Where the objects go.</param>
    /// <param name="prefix">A key prefix.</param>
    /// <param name="name">The sink's name; the store's by default.</param>
    /// <param name="dedicatedStores">Opens a client's dedicated bucket; <see langword="null"/> to write every client to <paramref name="store"/>.</param>
    /// <param name="warnAboutDedicatedBuckets">Whether to warn (once per bucket) when a client's dedicated bucket is not honoured.</param>
    /// <param name="maxConcurrentUploads">How many clients' objects are put at the same time.</param>
    /// <param name="metrics">The object-storage instruments.</param>
    /// <param name="logger">The logger.</param>
    /// <param name="limits">When an object is closed; the buckets' defaults when <see langword="null"/>.</param>
    internal ObjectStorageEventSink(
        IObjectStore store,
        string? prefix,
        string? name,
        Func<string, IObjectStore>? dedicatedStores,
        bool warnAboutDedicatedBuckets,
        int maxConcurrentUploads,
        ObjectStorageMetrics? metrics,
        ILogger logger,
        ObjectLimits? limits = null)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxConcurrentUploads, 1);
        _store = store;
        _prefix = prefix;
        Name = name ?? store.Name;
        _dedicatedStores = dedicatedStores;
        _warnAboutDedicatedBuckets = warnAboutDedicatedBuckets;
        _maxConcurrentUploads = maxConcurrentUploads;
        _metrics = metrics;
        _logger = logger;
        _limits = limits ?? ObjectLimits.BucketDefault;
    }

    /// <inheritdoc />
    public string Name { get; }

    /// <summary>Gets the store every client without a dedicated bucket is written to.</summary>
    public IObjectStore Store => _store;

    /// <summary>Gets the key prefix.</summary>
    public string? Prefix => _prefix;

    /// <summary>Gets when an object is closed.</summary>
    internal ObjectLimits Limits => _limits;

    /// <inheritdoc />
    DeliveryPolicy IDeliveryPolicySource.GetDeliveryPolicy(BatchingOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);

        // One batch at a time: keys follow batch boundaries, so a batch re-read after a crash must start where the
        // cursor is. (In Committed mode the collector has the first sink deliver at once, whatever its policy.)
        return new DeliveryPolicy(ObjectLimits.MaxEvents, _limits.MaxBytes, _limits.MaxAge, MaxInFlight: 1);
    }

    /// <inheritdoc />
    /// <exception cref="ClientWriteException">Some clients' objects were not stored (possibly all, when refused for good), and every other client's was.</exception>
    public async ValueTask WriteAsync(EventBatch batch, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(batch);
        var groups = GroupByDestination(batch.Events);

        // Every client's object is attempted, so that one client's failing destination (a dedicated bucket that
        // refuses writes) costs only that client's requests.
        var failures = new ConcurrentQueue<ObjectFailure>();
        if (groups.Count == 1 || _maxConcurrentUploads == 1)
        {
            foreach (var group in groups)
            {
                cancellationToken.ThrowIfCancellationRequested();
                await TryWriteObjectAsync(batch, group, failures, cancellationToken).ConfigureAwait(false);
            }
        }
        else
        {
            await Parallel.ForEachAsync(
                groups,
                new ParallelOptions { MaxDegreeOfParallelism = _maxConcurrentUploads, CancellationToken = cancellationToken },
                (group, token) => TryWriteObjectAsync(batch, group, failures, token)).ConfigureAwait(false);
        }

        if (failures.IsEmpty)
        {
            return;
        }

        cancellationToken.ThrowIfCancellationRequested();
        var failedClients = failures.Select(f => f.Group.ClientId).ToHashSet(StringComparer.Ordinal);
        var nothingStored = groups.All(g => failedClients.Contains(g.ClientId));

        // One transient failure makes the whole outcome transient: retrying is what it needs, and a refusal among the
        // failures shows again, alone, once the rest is through.
        if (failures.FirstOrDefault(f => !f.IsRefusal) is { Error: { } transient })
        {
            if (nothingStored)
            {
                // Nothing of the batch is stored for any client: the failure is the batch's.
                ExceptionDispatchInfo.Throw(transient);
            }

            throw new ClientWriteException(failedClients, transient);
        }

        // Every failure is a refusal: named by client, even when the sink's own bucket refuses every client of the batch.
        // The consumer then parks the batch's requests of those clients as one file after ParkAfterAttempts attempts;
        // an EventsRejectedException would have it try each request alone first, one PUT per request, all refused alike.
        throw new ClientWriteException(failedClients, failures.First().Error, isPermanent: true);
    }

    // A bucket that does not exist or refuses the collector: retrying will not help until someone changes the bucket or
    // the credentials. A local folder is never that: the spool beside it holds the events until its permissions or its
    // disk are fixed, and it has nowhere better to park them.
    private static bool IsRefusal(IObjectStore? store, Exception error) =>
        store is not null and not LocalFolderObjectStore
        && error is ObjectStoreException { Error: ObjectStoreError.BucketNotFound or ObjectStoreError.AccessDenied };

    private async ValueTask TryWriteObjectAsync(
        EventBatch batch,
        ObjectGroup group,
        ConcurrentQueue<ObjectFailure> failures,
        CancellationToken cancellationToken)
    {
        IObjectStore? store = null;
        try
        {
            store = group.Bucket is { } bucket ? _dedicatedStores!(bucket) : _store;
            await WriteObjectAsync(store, batch, group, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
        {
            failures.Enqueue(new ObjectFailure(group, ex, IsRefusal(store, ex)));
        }
    }

    /// <summary>Encodes events as gzip-compressed NDJSON into a pooled buffer, positioned at the start for reading.</summary>
    internal static PooledBufferStream Encode(IReadOnlyList<CollectedEvent> events) =>
        GzipNdjson.Encode(events, CollectedEventJson.Write);

    /// <summary>Reads gzip-compressed NDJSON back into events, one line at a time.</summary>
    /// <exception cref="InvalidDataException">The content is not gzip, or a line is not a stored event (the message names the line).</exception>
    internal static async IAsyncEnumerable<CollectedEvent> DecodeAsync(Stream compressed, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        using var gzip = new GZipStream(compressed, CompressionMode.Decompress, leaveOpen: true);
        var buffer = ArrayPool<byte>.Shared.Rent(64 * 1024);
        try
        {
            int start = 0, end = 0, line = 0;
            while (true)
            {
                var newline = buffer.AsSpan(start, end - start).IndexOf((byte)'\n');
                if (newline >= 0)
                {
                    line++;
                    var e = ParseLine(buffer, start, newline, line);
                    start += newline + 1;
                    if (e is not null)
                    {
                        yield return e;
                    }

                    continue;
                }

                // No complete line left: keep the partial one at the front and read more behind it.
                if (start > 0)
                {
                    buffer.AsSpan(start, end - start).CopyTo(buffer);
                    end -= start;
                    start = 0;
                }

                if (end == buffer.Length)
                {
                    if (buffer.Length >= MaxLineBytes)
                    {
                        throw new InvalidDataException($"Line {line + 1} is longer than {MaxLineBytes} bytes: this is not an object of stored events.");
                    }

                    var larger = ArrayPool<byte>.Shared.Rent(buffer.Length * 2);
                    buffer.AsSpan(0, end).CopyTo(larger);
                    ArrayPool<byte>.Shared.Return(buffer);
                    buffer = larger;
                }

                var read = await gzip.ReadAsync(buffer.AsMemory(end), cancellationToken).ConfigureAwait(false);
                if (read == 0)
                {
                    if (end > 0)
                    {
                        var last = ParseLine(buffer, 0, end, line + 1);
                        if (last is not null)
                        {
                            yield return last;
                        }
                    }

                    yield break;
                }

                end += read;
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static CollectedEvent? ParseLine(byte[] buffer, int start, int length, int line)
    {
        var text = buffer.AsSpan(start, length).TrimEnd((byte)'\r');
        if (text.IsEmpty)
        {
            return null;
        }

        try
        {
            return CollectedEventJson.Read(text);
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException or FormatException)
        {
            throw new InvalidDataException($"Line {line} is not a stored event: {ex.Message}", ex);
        }
    }

    private async ValueTask WriteObjectAsync(IObjectStore store, EventBatch batch, ObjectGroup group, CancellationToken cancellationToken)
    {

        var key = ObjectKeyLayout.GetKey(_prefix, group.ClientId, batch.CreatedAt, batch.Id);
        using var content = Encode(group.Events);
        await store.PutAsync(
            new ObjectPutRequest
            {
                Key = key,
                Content = content,
                Length = content.Length,
                ContentType = ContentType,
                ContentEncoding = "gzip",
                Metadata = new Dictionary<string, string>
                {
                    [EventCountMetadataKey] = group.Events.Count.ToString(CultureInfo.InvariantCulture),
                },
            },
            cancellationToken).ConfigureAwait(false);

        _metrics?.ObjectWritten(store.Name, content.Length);
        ObjectStorageLog.ObjectWritten(_logger, key, group.Events.Count, content.Length, store.Name);
    }

    private List<ObjectGroup> GroupByDestination(IReadOnlyList<CollectedEvent> events)
    {
        // Events arrive grouped by request, so consecutive events usually share a destination.
        var groups = new List<ObjectGroup>();
        var index = new Dictionary<(string ClientId, string? Bucket), ObjectGroup>();
        ObjectGroup? last = null;
        foreach (var e in events)
        {
            // Without dedicated stores every event of a client goes to the one store under the one key of this
            // batch: they must share one object, or the second upload would replace the first.
            var bucket = _dedicatedStores is null ? null : e.DedicatedBucket;
            if (bucket is null && e.DedicatedBucket is { } ignored && _warnAboutDedicatedBuckets && _ignoredBuckets.TryAdd(ignored, true))
            {
                ObjectStorageLog.DedicatedBucketIgnored(_logger, e.ClientId, ignored, _store.Name);
            }

            if (last is null || last.ClientId != e.ClientId || last.Bucket != bucket)
            {
                if (!index.TryGetValue((e.ClientId, bucket), out last))
                {
                    last = new ObjectGroup(e.ClientId, bucket);
                    index[(e.ClientId, bucket)] = last;
                    groups.Add(last);
                }
            }

            last.Events.Add(e);
        }

        return groups;
    }

    private sealed record ObjectFailure(ObjectGroup Group, Exception Error, bool IsRefusal);

    private sealed class ObjectGroup(string clientId, string? bucket)
    {
        public string ClientId { get; } = clientId;

        public string? Bucket { get; } = bucket;

        public List<CollectedEvent> Events { get; } = [];
    }
}
