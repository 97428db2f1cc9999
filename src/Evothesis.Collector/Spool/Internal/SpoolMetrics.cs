using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Evothesis.Collector.Diagnostics;

namespace Evothesis.Collector.Spool.Internal;

/// <summary>Instruments of the write-ahead spool, on the collector's meter. Tags carry consumer names and reasons only.</summary>
internal sealed class SpoolMetrics
{
    public const string Full = "full";
    public const string Unavailable = "unavailable";
    public const string Stopped = "stopped";
    public const string TornTail = "torn_tail";
    public const string Corrupt = "corrupt";

    private readonly Meter _meter;
    private readonly Counter<long> _fsyncs;
    private readonly Histogram<double> _fsyncDuration;
    private readonly Histogram<int> _fsyncRecords;
    private readonly Counter<long> _refused;
    private readonly Counter<long> _writeFailures;
    private readonly Counter<long> _truncated;

    // Consumer name -> the sink it feeds, for the lag gauges' "sink" tag; set once the consumers are built.
    private readonly ConcurrentDictionary<string, string> _sinks = new(StringComparer.Ordinal);

    public SpoolMetrics(CollectorMetrics metrics)
    {
        ArgumentNullException.ThrowIfNull(metrics);
        _meter = metrics.Meter;
        _fsyncs = _meter.CreateCounter<long>(
            "evothesis.collector.spool.fsyncs", "{fsync}", "Flushes of spool records to disk; concurrent appends share one.");
        _fsyncDuration = _meter.CreateHistogram<double>(
            "evothesis.collector.spool.fsync.duration", "s", "Time one write and flush of the spool took.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1] });
        _fsyncRecords = _meter.CreateHistogram<int>(
            "evothesis.collector.spool.fsync.records", "{record}", "Records made durable by one flush (the group commit's size).",
            advice: new InstrumentAdvice<int> { HistogramBucketBoundaries = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024] });
        _refused = _meter.CreateCounter<long>(
            "evothesis.collector.spool.appends.refused", "{append}", "Appends the spool refused, by reason (full, unavailable, stopped).");
        _writeFailures = _meter.CreateCounter<long>(
            "evothesis.collector.spool.write.failures", "{failure}", "Writes or flushes of the spool that failed; their appends failed too.");
        _truncated = _meter.CreateCounter<long>(
            "evothesis.collector.spool.truncated", "By", "Bytes of spool segments cut or skipped, by reason (torn_tail on recovery, corrupt).");
    }

    // Totals since start, for the summary logged at shutdown (what a load run reads); written by the writer thread.
    private long _totalFsyncs;
    private long _totalRecords;
    private long _totalFsyncTicks;

    /// <summary>Gets the fsyncs, the records they carried and their total duration since the spool opened.</summary>
    public (long Fsyncs, long Records, TimeSpan Duration) Totals =>
        (Interlocked.Read(ref _totalFsyncs), Interlocked.Read(ref _totalRecords), TimeSpan.FromTicks(Interlocked.Read(ref _totalFsyncTicks)));

    public void Flushed(int records, TimeSpan duration)
    {
        Interlocked.Increment(ref _totalFsyncs);
        Interlocked.Add(ref _totalRecords, records);
        Interlocked.Add(ref _totalFsyncTicks, duration.Ticks);
        _fsyncs.Add(1);
        _fsyncRecords.Record(records);
        _fsyncDuration.Record(duration.TotalSeconds);
    }

    public void Refused(string reason)
    {
        if (_refused.Enabled)
        {
            _refused.Add(1, new KeyValuePair<string, object?>("reason", reason));
        }
    }

    public void WriteFailed() => _writeFailures.Add(1);

    public void Truncated(long bytes, string reason)
    {
        if (_truncated.Enabled && bytes > 0)
        {
            _truncated.Add(bytes, new KeyValuePair<string, object?>("reason", reason));
        }
    }

    /// <summary>Names the sink a consumer feeds: its lag is reported with a <c>sink</c> tag too.</summary>
    public void NameSink(string consumer, string sink) => _sinks[consumer] = sink;

    public void Observe(WriteAheadSpool spool)
    {
        _meter.CreateObservableUpDownCounter(
            "evothesis.collector.spool.bytes", () => spool.TotalBytes, "By",
            "Bytes held by the spool: segment files not yet deleted and records waiting to be written.");
        _meter.CreateObservableUpDownCounter(
            "evothesis.collector.spool.segments", () => spool.SegmentCount, "{segment}", "Segment files of the spool.");
        _meter.CreateObservableGauge(
            "evothesis.collector.spool.consumer.lag", () => Lags(spool, static lag => lag.Bytes), "By",
            "Bytes of records a spool consumer has not committed yet, by consumer and sink.");
        _meter.CreateObservableGauge(
            "evothesis.collector.spool.consumer.lag.events", () => Lags(spool, static lag => lag.Events), "{event}",
            "Events a spool consumer has not committed yet, by consumer and sink.");
        _meter.CreateObservableGauge(
            "evothesis.collector.spool.consumer.lag.age", () => Lags(spool, static lag => lag.OldestAge.TotalSeconds), "s",
            "Age of the oldest record a spool consumer has not committed yet (0 when it has every record), by consumer and sink.");
    }

    private IEnumerable<Measurement<T>> Lags<T>(WriteAheadSpool spool, Func<SpoolConsumerLag, T> value)
        where T : struct =>
        spool.GetConsumerLags().Select(lag => new Measurement<T>(
            value(lag),
            new KeyValuePair<string, object?>("consumer", lag.Consumer),
            new KeyValuePair<string, object?>("sink", _sinks.GetValueOrDefault(lag.Consumer, lag.Consumer))));
}
