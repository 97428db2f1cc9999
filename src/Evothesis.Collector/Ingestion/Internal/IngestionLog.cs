using Microsoft.Extensions.Logging;

namespace Evothesis.Collector.Ingestion.Internal;

/// <summary>Log messages of request handling, event ids 1000-1099. Never payload values or raw IPs.</summary>
internal static partial class IngestionLog
{
    [LoggerMessage(1000, LogLevel.Information, "Processing batch with {Count} individual events for client {ClientId}")]
    public static partial void ProcessingBatch(ILogger logger, int count, string clientId);

    [LoggerMessage(1001, LogLevel.Debug, "Request refused with {StatusCode}: {Reason}")]
    public static partial void RequestRefused(ILogger logger, int statusCode, string reason);

    [LoggerMessage(1002, LogLevel.Information, "Rejected {Count} of {Total} events of a batch for client {ClientId}")]
    public static partial void EventsRejected(ILogger logger, int count, int total, string clientId);

    [LoggerMessage(1003, LogLevel.Error, "Client {ClientId} requires hashed IPs but has no salt configured: its events are refused until the configuration is fixed")]
    public static partial void MissingSalt(ILogger logger, string clientId);

    [LoggerMessage(1004, LogLevel.Warning, "The spool refused a request ({Reason}): answered 503 with Retry-After")]
    public static partial void SpoolRefused(ILogger logger, string reason);

    [LoggerMessage(1005, LogLevel.Warning, "Events of client {ClientId} could not be written: request answered with 503")]
    public static partial void WriteFailed(ILogger logger, string clientId);

    [LoggerMessage(1006, LogLevel.Warning, "Events of client {ClientId} were not written within {Timeout}: request answered with 503")]
    public static partial void AckTimedOut(ILogger logger, string clientId, TimeSpan timeout);
}
