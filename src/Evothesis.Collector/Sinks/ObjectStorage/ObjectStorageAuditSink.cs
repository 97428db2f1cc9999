using System.Globalization;
using Evothesis.Collector.Audit;
using Evothesis.Collector.Audit.Internal;
using Evothesis.Collector.Sinks.ObjectStorage.Internal;

namespace Evothesis.Collector.Sinks.ObjectStorage;

/// <summary>
/// Writes audit records as gzip-compressed NDJSON objects to an <see cref="IObjectStore"/>, one object per
/// client per write, under the same Hive-style layout as the events:
/// <c>{prefix}/client_id={id}/date=YYYY-MM-DD/hour=HH/{yyyyMMddTHHmmssZ}-{write id}.ndjson.gz</c>.
/// </summary>
/// <remarks>
/// The collector's default audit sink is one of these on the local storage folder with the prefix
/// <c>audit</c>, beside the event files. Each line is one record: <c>id</c>, <c>time</c>, <c>client_id</c>,
/// <c>site_id</c>, <c>request_id</c>, <c>event_count</c>, <c>event_types</c>, <c>ip_hash</c>, <c>redactions</c>.
/// A write that is retried adds a second object rather than replacing the first: an audit trail may repeat a
/// record, never lose one.
/// </remarks>
internal sealed class ObjectStorageAuditSink : IAuditSink
{
    /// <summary>The key prefix the collector's default audit sink uses.</summary>
    public const string DefaultPrefix = "audit";

    private readonly IObjectStore _store;
    private readonly string? _prefix;

    /// <summary>Initializes a new instance of the <see cref="ObjectStorageAuditSink"/> class.</summary>
    /// <param name="store">Where the objects go.</param>
    /// <param name="prefix">A key prefix. The default is <see cref="DefaultPrefix"/>.</param>
    public ObjectStorageAuditSink(IObjectStore store, string? prefix = DefaultPrefix)
    {
        ArgumentNullException.ThrowIfNull(store);
        _store = store;
        _prefix = prefix;
        Name = "audit:" + store.Name;
    }

    /// <inheritdoc />
    public string Name { get; }

    /// <inheritdoc />
    public async ValueTask WriteAsync(IReadOnlyList<AuditRecord> records, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(records);
        foreach (var group in records.GroupBy(r => r.ClientId, StringComparer.Ordinal))
        {
            cancellationToken.ThrowIfCancellationRequested();
            var list = group.ToList();
            using var content = Encode(list);
            var time = list[0].Time;
            await _store.PutAsync(
                new ObjectPutRequest
                {
                    Key = ObjectKeyLayout.GetKey(_prefix, group.Key, time, Guid.CreateVersion7(time)),
                    Content = content,
                    Length = content.Length,
                    ContentType = ObjectStorageEventSink.ContentType,
                    ContentEncoding = "gzip",
                    Metadata = new Dictionary<string, string>
                    {
                        ["record-count"] = list.Count.ToString(CultureInfo.InvariantCulture),
                    },
                },
                cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Encodes records as gzip-compressed NDJSON, positioned at the start for reading.</summary>
    internal static PooledBufferStream Encode(IReadOnlyList<AuditRecord> records) =>
        GzipNdjson.Encode(records, AuditRecordJson.Write);
}
