using System.Diagnostics.Metrics;
using Evothesis.Collector.Diagnostics;

namespace Evothesis.Collector.Privacy.Internal;

/// <summary>
/// Instruments of the privacy rules, on the collector's meter. Tags are rule names, causes and sink names:
/// never values.
/// </summary>
internal sealed class PrivacyMetrics
{
    private readonly Counter<long> _redactions;
    private readonly Counter<long> _consentDrops;

    public PrivacyMetrics(CollectorMetrics metrics)
    {
        var meter = metrics.Meter;
        _redactions = meter.CreateCounter<long>(
            "evothesis.collector.privacy.redactions", "{value}", "Values redacted before storage, by rule.");
        _consentDrops = meter.CreateCounter<long>(
            "evothesis.collector.privacy.consent_drops", "{event}", "Events dropped for lack of consent, by cause (denied, gpc, no_grant).");
    }

    public void Redacted(RedactionRecorder recorder)
    {
        if (!_redactions.Enabled || recorder.Total == 0)
        {
            return;
        }

        for (var kind = 0; kind < PiiKinds.Count; kind++)
        {
            var count = recorder.Count((PiiKind)kind);
            if (count > 0)
            {
                _redactions.Add(count, new KeyValuePair<string, object?>("rule", PiiKinds.Name((PiiKind)kind)));
            }
        }
    }

    public void ConsentDropped(int count, string cause)
    {
        if (_consentDrops.Enabled && count > 0)
        {
            _consentDrops.Add(count, new KeyValuePair<string, object?>("cause", cause));
        }
    }
}
