using Microsoft.Extensions.Logging;

namespace Evothesis.Collector.Authorization.Internal;

/// <summary>Log messages of domain authorization, event ids 1100-1199.</summary>
internal static partial class AuthorizationLog
{
    [LoggerMessage(1100, LogLevel.Warning, "No clients file at '{Path}': every domain is unauthorized until one exists or pixel-management is configured.")]
    public static partial void ClientsFileMissing(ILogger logger, string path);

    [LoggerMessage(1101, LogLevel.Information, "Loaded {Count} authorized domains from the clients file '{Path}'.")]
    public static partial void ClientsFileLoaded(ILogger logger, string path, int count);

    [LoggerMessage(1102, LogLevel.Debug, "Domain {Domain} authorized for client {ClientId}")]
    public static partial void DomainAuthorized(ILogger logger, string domain, string clientId);

    [LoggerMessage(1103, LogLevel.Information, "Domain {Domain} is not authorized: request refused")]
    public static partial void DomainUnauthorized(ILogger logger, string domain);

    [LoggerMessage(1104, LogLevel.Warning, "Authorization of domain {Domain} is unavailable: request refused with 503")]
    public static partial void AuthorizationUnavailable(ILogger logger, string domain);
}
