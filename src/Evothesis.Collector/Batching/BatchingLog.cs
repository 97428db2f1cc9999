using Microsoft.Extensions.Logging;

namespace Evothesis.Collector.Batching;

/// <summary>Log messages of batching and delivery, event ids 1300-1399.</summary>
internal static partial class BatchingLog
{
    [LoggerMessage(1300, LogLevel.Information, "Bulk inserted {Count} events for client {ClientId} from site {SiteId}")]
    public static partial void BulkInserted(ILogger logger, int count, string clientId, string siteId);

    [LoggerMessage(1301, LogLevel.Error, "Sink {Sink} failed to write a batch of {Count} events")]
    public static partial void SinkFailed(ILogger logger, Exception exception, string sink, int count);

    [LoggerMessage(1302, LogLevel.Error, "Dropped {Count} acknowledged events: {Reason}")]
    public static partial void EventsDropped(ILogger logger, int count, string reason);

    [LoggerMessage(1303, LogLevel.Information, "Draining {Count} queued events before shutdown")]
    public static partial void Draining(ILogger logger, long count);

    [LoggerMessage(1304, LogLevel.Warning, "Shutdown budget ran out with {Count} events still queued: their writes are cancelled")]
    public static partial void DrainTimedOut(ILogger logger, long count);

    [LoggerMessage(1305, LogLevel.Critical, "The batch flusher failed unexpectedly and restarts")]
    public static partial void FlusherFailed(ILogger logger, Exception exception);

    [LoggerMessage(1306, LogLevel.Warning, "The events of {Clients} client(s) were not written ({Failed} of {Total} events of the batch): their requests are refused, the other clients' were written")]
    public static partial void ClientsFailed(ILogger logger, int clients, int failed, int total);

    [LoggerMessage(1307, LogLevel.Error, "Commit observer {Observer} failed on a stored batch of {Count} events; the events stay stored and acknowledged")]
    public static partial void ObserverFailed(ILogger logger, Exception exception, string observer, int count);
}
