using System.Diagnostics.Metrics;
using Evothesis.Collector.Diagnostics;

namespace Evothesis.Collector.Audit.Internal;

/// <summary>Instruments of the audit trail, on the collector's meter. Tags are outcomes and sink names: never values.</summary>
internal sealed class AuditMetrics
{
    private readonly Counter<long> _auditRecords;
    private readonly Counter<long> _auditFailures;

    public AuditMetrics(CollectorMetrics metrics)
    {
        var meter = metrics.Meter;
        _auditRecords = meter.CreateCounter<long>(
            "evothesis.collector.audit.records", "{record}", "Audit records written, or refused with their requests, by outcome.");
        _auditFailures = meter.CreateCounter<long>(
            "evothesis.collector.audit.failures", "{write}", "Audit writes a sink failed, by sink.");
    }

    public void AuditRecords(int count, bool success)
    {
        if (_auditRecords.Enabled && count > 0)
        {
            _auditRecords.Add(count, new KeyValuePair<string, object?>("outcome", success ? "written" : "failed"));
        }
    }

    public void AuditFailed(string sink)
    {
        if (_auditFailures.Enabled)
        {
            _auditFailures.Add(1, new KeyValuePair<string, object?>("sink", sink));
        }
    }
}
