using System.Diagnostics.Metrics;
using Evothesis.Collector.Diagnostics;

namespace Evothesis.Collector.Sinks.PostgreSql.Internal;

/// <summary>The PostgreSQL sink's instruments, on the collector's meter. Tags carry outcomes and SQLSTATEs only.</summary>
internal sealed class PostgreSqlMetrics
{
    private readonly Counter<long> _rowsWritten;
    private readonly Counter<long> _duplicates;
    private readonly Histogram<double> _copyDuration;
    private readonly Counter<long> _failures;

    public PostgreSqlMetrics(CollectorMetrics collector)
    {
        var meter = collector.Meter;
        _rowsWritten = meter.CreateCounter<long>(
            "evothesis.collector.postgresql.rows.written", "{row}", "Event rows committed to PostgreSQL.");
        _duplicates = meter.CreateCounter<long>(
            "evothesis.collector.postgresql.rows.duplicate", "{row}", "Events not written because they were already stored (client or batch retries).");
        _copyDuration = meter.CreateHistogram<double>(
            "evothesis.collector.postgresql.copy.duration", "s", "Time to write one batch, from opening the connection to the commit.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] });
        _failures = meter.CreateCounter<long>(
            "evothesis.collector.postgresql.failures", "{batch}", "Batch writes that failed, by error type and whether PostgreSQL refused the data for good (a failed batch stored nothing).");
    }

    public void Written(WriteOutcome outcome, TimeSpan duration)
    {
        _rowsWritten.Add(outcome.Inserted);
        if (outcome.Duplicates > 0)
        {
            _duplicates.Add(outcome.Duplicates);
        }

        if (_copyDuration.Enabled)
        {
            _copyDuration.Record(
                duration.TotalSeconds,
                new KeyValuePair<string, object?>("evothesis.postgresql.path", outcome.Path == WritePath.Fast ? "fast" : "careful"));
        }
    }

    /// <param name="errorType">The SQLSTATE, or the exception's type.</param>
    /// <param name="refused">Whether PostgreSQL refused the batch's data for good, rather than failed.</param>
    public void Failed(string errorType, bool refused)
    {
        if (_failures.Enabled)
        {
            _failures.Add(
                1,
                new KeyValuePair<string, object?>("error.type", errorType),
                new KeyValuePair<string, object?>("evothesis.postgresql.refused", refused));
        }
    }
}
