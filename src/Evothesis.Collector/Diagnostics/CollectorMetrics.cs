using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Evothesis.Collector.Diagnostics;

/// <summary>
/// The collector's instruments, on the meter <c>Evothesis.Collector</c>. Tags carry reasons, sinks and
/// outcomes only: never payload values, IPs or other request data.
/// </summary>
internal sealed class CollectorMetrics
{
    public const string MeterName = CollectorOptions.MeterName;

    private readonly Counter<long> _requests;
    private readonly Counter<long> _eventsReceived;
    private readonly Counter<long> _eventsAccepted;
    private readonly Counter<long> _eventsRejected;
    private readonly Counter<long> _eventsDropped;
    private readonly Counter<long> _eventsWritten;
    private readonly Histogram<int> _batchSize;
    private readonly Histogram<double> _flushDuration;
    private readonly Counter<long> _sinkFailures;
    private readonly Counter<long> _requestsRefused;
    private readonly Counter<long> _observerFailures;
    private readonly Counter<long> _deliveryRetries;
    private readonly Counter<long> _parkedEvents;
    private readonly Counter<long> _parkedRecords;

    public CollectorMetrics(IMeterFactory meterFactory)
    {
        Meter = meterFactory.Create(MeterName);
        _requests = Meter.CreateCounter<long>(
            "evothesis.collector.requests", "{request}", "Requests to /collect, by HTTP status code.");
        _eventsReceived = Meter.CreateCounter<long>(
            "evothesis.collector.events.received", "{event}", "Events read from request bodies.");
        _eventsAccepted = Meter.CreateCounter<long>(
            "evothesis.collector.events.accepted", "{event}", "Events accepted and queued for writing.");
        _eventsRejected = Meter.CreateCounter<long>(
            "evothesis.collector.events.rejected", "{event}", "Events refused, by reason; the sender was told.");
        _eventsDropped = Meter.CreateCounter<long>(
            "evothesis.collector.events.dropped", "{event}", "Acknowledged events that could not be written, by reason.");
        _eventsWritten = Meter.CreateCounter<long>(
            "evothesis.collector.events.written", "{event}", "Events written by every sink.");
        _batchSize = Meter.CreateHistogram<int>(
            "evothesis.collector.batch.size", "{event}", "Events per written batch.",
            advice: new InstrumentAdvice<int> { HistogramBucketBoundaries = [1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000] });
        _flushDuration = Meter.CreateHistogram<double>(
            "evothesis.collector.flush.duration", "s", "Time one sink took to write one batch.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] });
        _sinkFailures = Meter.CreateCounter<long>(
            "evothesis.collector.sink.failures", "{batch}", "Batch writes a sink failed, by sink.");
        _requestsRefused = Meter.CreateCounter<long>(
            "evothesis.collector.requests.refused", "{request}", "Requests refused as a whole, by reason (a limit, authorization, capacity).");
        _deliveryRetries = Meter.CreateCounter<long>(
            "evothesis.collector.sink.retries", "{batch}", "Batch writes a sink will try again, by sink; the events stay in the spool meanwhile.");
        _parkedEvents = Meter.CreateCounter<long>(
            "evothesis.collector.sink.parked.events", "{event}", "Events a sink refused for good, parked beside the spool for evothesis-replay, by sink and reason (rejected, client_failed).");
        _parkedRecords = Meter.CreateCounter<long>(
            "evothesis.collector.sink.parked.records", "{request}", "Spool records (requests) a sink refused for good, parked beside the spool, by sink and reason.");
        _observerFailures = Meter.CreateCounter<long>(
            "evothesis.collector.observer.failures", "{batch}", "Stored batches a commit observer (recent events, metrics) failed to take.");
    }

    /// <summary>Gets the meter, for capabilities that add their own instruments.</summary>
    public Meter Meter { get; }

    public void RequestCompleted(int statusCode)
    {
        if (_requests.Enabled)
        {
            _requests.Add(1, new KeyValuePair<string, object?>("http.response.status_code", statusCode));
        }
    }

    public void RequestRefused(string reason)
    {
        if (_requestsRefused.Enabled)
        {
            _requestsRefused.Add(1, new KeyValuePair<string, object?>("reason", reason));
        }
    }

    public void ObserverFailed() => _observerFailures.Add(1);

    public void DeliveryRetried(string sink)
    {
        if (_deliveryRetries.Enabled)
        {
            _deliveryRetries.Add(1, new KeyValuePair<string, object?>("sink", sink));
        }
    }

    public void RecordsParked(string sink, string reason, int records, int events)
    {
        if (_parkedRecords.Enabled)
        {
            _parkedRecords.Add(records, new KeyValuePair<string, object?>("sink", sink), new KeyValuePair<string, object?>("reason", reason));
        }

        if (_parkedEvents.Enabled)
        {
            _parkedEvents.Add(events, new KeyValuePair<string, object?>("sink", sink), new KeyValuePair<string, object?>("reason", reason));
        }
    }

    /// <summary>Reports the requests each sink has parked now (until evothesis-replay delivers them), by sink.</summary>
    public void ObserveParked(Func<IEnumerable<(string Sink, long Records)>> parked)
    {
        Meter.CreateObservableGauge(
            "evothesis.collector.sink.parked",
            () => parked().Select(p => new Measurement<long>(p.Records, new KeyValuePair<string, object?>("sink", p.Sink))),
            "{request}",
            "Spool records (requests) a sink refused for good that are parked now, waiting for evothesis-replay, by sink.");
    }

    public void EventsReceived(int count) => _eventsReceived.Add(count);

    public void EventsAccepted(int count) => _eventsAccepted.Add(count);

    public void EventsRejected(int count, string reason)
    {
        if (_eventsRejected.Enabled && count > 0)
        {
            _eventsRejected.Add(count, new KeyValuePair<string, object?>("reason", reason));
        }
    }

    public void EventsDropped(int count, string reason)
    {
        if (_eventsDropped.Enabled && count > 0)
        {
            _eventsDropped.Add(count, new KeyValuePair<string, object?>("reason", reason));
        }
    }

    public void BatchWritten(int count)
    {
        _eventsWritten.Add(count);
        _batchSize.Record(count);
    }

    public void SinkWrite(string sink, TimeSpan duration, bool success)
    {
        if (_flushDuration.Enabled)
        {
            _flushDuration.Record(
                duration.TotalSeconds,
                new KeyValuePair<string, object?>("sink", sink),
                new KeyValuePair<string, object?>("outcome", success ? "success" : "failure"));
        }

        if (!success && _sinkFailures.Enabled)
        {
            _sinkFailures.Add(1, new KeyValuePair<string, object?>("sink", sink));
        }
    }
}

/// <summary>The collector's <see cref="ActivitySource"/>, named <c>Evothesis.Collector</c>.</summary>
internal static class CollectorActivitySource
{
    public static readonly ActivitySource Instance = new(CollectorMetrics.MeterName);
}
