using System.Globalization;
using System.IO.Compression;
using System.Text.Encodings.Web;
using System.Text.Json;
using Evothesis.Collector.Events;
using Evothesis.Collector.Events.Internal;
using Evothesis.Collector.Sinks.ObjectStorage.Internal;

namespace Evothesis.Collector.Sinks.ObjectStorage;

/// <summary>
/// Writes each batch as one gzip-compressed NDJSON object per client to an <see cref="IObjectStore"/>, under
/// Hive-style partitions: <c>{prefix}/client_id={id}/date=YYYY-MM-DD/hour=HH/{yyyyMMddTHHmmssZ}-{batch id}.ndjson.gz</c>.
/// </summary>
/// <remarks>
/// Each line is one event in the stored JSON shape (the shape of <c>GET /events/recent</c>). Keys are derived
/// from the batch, so a retried batch replaces its objects.
/// </remarks>
public sealed class ObjectStorageEventSink : IEventSink
{
    /// <summary>The media type of the objects.</summary>
    public const string ContentType = "application/x-ndjson";

    /// <summary>The metadata key that carries an object's event count.</summary>
    public const string EventCountMetadataKey = "event-count";

    private static readonly JsonWriterOptions WriterOptions = new()
    {
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        SkipValidation = true,
    };

    private readonly IObjectStore _store;
    private readonly string? _prefix;

    /// <summary>Initializes a new instance of the <see cref="ObjectStorageEventSink"/> class.</summary>
    /// <param name="store">Where the objects go.</param>
    /// <param name="prefix">A key prefix, such as <c>events</c>; none by default.</param>
    public ObjectStorageEventSink(IObjectStore store, string? prefix = null)
    {
        ArgumentNullException.ThrowIfNull(store);
        _store = store;
        _prefix = prefix;
    }

    /// <inheritdoc />
    public string Name => _store.Name;

    /// <inheritdoc />
    public async ValueTask WriteAsync(EventBatch batch, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(batch);
        foreach (var group in GroupByClient(batch.Events))
        {
            cancellationToken.ThrowIfCancellationRequested();
            using var content = Encode(group.Value);
            await _store.PutAsync(
                new ObjectPutRequest
                {
                    Key = ObjectKeyLayout.GetKey(_prefix, group.Key, batch.CreatedAt, batch.Id),
                    Content = content,
                    Length = content.Length,
                    ContentType = ContentType,
                    ContentEncoding = "gzip",
                    Metadata = new Dictionary<string, string>
                    {
                        [EventCountMetadataKey] = group.Value.Count.ToString(CultureInfo.InvariantCulture),
                    },
                },
                cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Encodes events as gzip-compressed NDJSON, positioned at the start for reading.</summary>
    internal static PooledBufferStream Encode(IReadOnlyList<CollectedEvent> events)
    {
        var output = new PooledBufferStream();
        using (var gzip = new GZipStream(output, CompressionLevel.Fastest, leaveOpen: true))
        using (var writer = new Utf8JsonWriter(gzip, WriterOptions))
        {
            foreach (var e in events)
            {
                CollectedEventJson.Write(writer, e);
                writer.Flush();
                writer.Reset();
                gzip.WriteByte((byte)'\n');
            }
        }

        output.Position = 0;
        return output;
    }

    /// <summary>Reads gzip-compressed NDJSON back into events.</summary>
    internal static async IAsyncEnumerable<CollectedEvent> DecodeAsync(Stream compressed)
    {
        using var gzip = new GZipStream(compressed, CompressionMode.Decompress, leaveOpen: true);
        using var reader = new StreamReader(gzip);
        while (await reader.ReadLineAsync().ConfigureAwait(false) is { } line)
        {
            if (line.Length > 0)
            {
                yield return CollectedEventJson.Read(System.Text.Encoding.UTF8.GetBytes(line));
            }
        }
    }

    private static Dictionary<string, List<CollectedEvent>> GroupByClient(IReadOnlyList<CollectedEvent> events)
    {
        var groups = new Dictionary<string, List<CollectedEvent>>(StringComparer.Ordinal);
        foreach (var e in events)
        {
            if (!groups.TryGetValue(e.ClientId, out var list))
            {
                groups[e.ClientId] = list = [];
            }

            list.Add(e);
        }

        return groups;
    }
}
