using System.Diagnostics.Metrics;
using Evothesis.Collector.Diagnostics;

namespace Evothesis.Collector.Sinks.ObjectStorage.Internal;

/// <summary>Object-storage instruments on the collector's meter. Tags: the store kind (<c>s3</c>, <c>local</c>) only.</summary>
internal sealed class ObjectStorageMetrics
{
    private readonly Counter<long> _objects;
    private readonly Histogram<long> _size;

    public ObjectStorageMetrics(CollectorMetrics metrics)
    {
        _objects = metrics.Meter.CreateCounter<long>(
            "evothesis.collector.objects.written", "{object}", "Objects written to object storage (one per client per batch).");
        _size = metrics.Meter.CreateHistogram<long>(
            "evothesis.collector.objects.size", "By", "Compressed size of the objects written to object storage.",
            advice: new InstrumentAdvice<long> { HistogramBucketBoundaries = [1024, 8192, 65536, 262144, 1048576, 4194304, 16777216, 67108864] });
    }

    public void ObjectWritten(string storeName, long bytes)
    {
        if (!_objects.Enabled && !_size.Enabled)
        {
            return;
        }

        var colon = storeName.IndexOf(':', StringComparison.Ordinal);
        var tag = new KeyValuePair<string, object?>("evothesis.object_store", colon > 0 ? storeName[..colon] : storeName);
        _objects.Add(1, tag);
        _size.Record(bytes, tag);
    }
}
