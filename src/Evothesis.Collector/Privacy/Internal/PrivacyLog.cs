using Microsoft.Extensions.Logging;

namespace Evothesis.Collector.Privacy.Internal;

/// <summary>Log messages of the privacy rules, event ids 1200-1299. Rule names and counts only, never values.</summary>
internal static partial class PrivacyLog
{
    [LoggerMessage(1200, LogLevel.Debug, "Dropped {Count} events of client {ClientId} without consent ({Cause})")]
    public static partial void ConsentDropped(ILogger logger, int count, string clientId, string cause);

    [LoggerMessage(1201, LogLevel.Debug, "Redacted {Count} values in events of client {ClientId} ({Rules})")]
    public static partial void Redacted(ILogger logger, int count, string clientId, string rules);
}
