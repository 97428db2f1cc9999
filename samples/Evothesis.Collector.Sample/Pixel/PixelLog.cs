namespace Evothesis.Collector.Sample.Pixel;

/// <summary>Log messages of the development pixel and the demo site, event ids 1700-1799.</summary>
internal static partial class PixelLog
{
    [LoggerMessage(1700, LogLevel.Debug, "Served the tracking script of client {ClientId}")]
    public static partial void ScriptServed(ILogger logger, string clientId);

    [LoggerMessage(1701, LogLevel.Information, "Tracking script requested for unknown client {ClientId}: 404")]
    public static partial void UnknownClient(ILogger logger, string clientId);

    [LoggerMessage(1702, LogLevel.Warning, "Tracking script requested with an invalid client id: 404")]
    public static partial void InvalidClientId(ILogger logger);

    [LoggerMessage(1703, LogLevel.Warning, "The client directory could not look up client {ClientId} ({Reason}): tracking script answered with 503")]
    public static partial void DirectoryUnavailable(ILogger logger, string clientId, string reason);

    [LoggerMessage(1704, LogLevel.Error, "The client directory failed to look up client {ClientId}: tracking script answered with 503")]
    public static partial void DirectoryFailed(ILogger logger, string clientId, Exception exception);

    [LoggerMessage(1710, LogLevel.Information, "Serving the demo site from {Path} at /")]
    public static partial void DemoSiteServed(ILogger logger, string path);

    [LoggerMessage(1711, LogLevel.Warning, "The demo site folder {Path} does not exist: / serves nothing")]
    public static partial void DemoSiteMissing(ILogger logger, string path);
}
