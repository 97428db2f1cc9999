using Microsoft.Extensions.Logging;

namespace Evothesis.Collector.Audit.Internal;

/// <summary>Log messages of the audit trail, event ids 1202-1203 (from the privacy range they started in). Counts and sink names only.</summary>
internal static partial class AuditLog
{
    [LoggerMessage(1202, LogLevel.Error, "Audit sink {Sink} failed to write {Count} audit records: the audited requests' events are refused")]
    public static partial void AuditWriteFailed(ILogger logger, Exception exception, string sink, int count);

    [LoggerMessage(1203, LogLevel.Debug, "Wrote {Count} audit records to {Sink}")]
    public static partial void AuditWritten(ILogger logger, int count, string sink);
}
