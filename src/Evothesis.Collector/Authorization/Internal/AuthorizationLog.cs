using Microsoft.Extensions.Logging;

namespace Evothesis.Collector.Authorization.Internal;

/// <summary>Log messages of domain authorization and client lookups, event ids 1100-1199.</summary>
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

    [LoggerMessage(1105, LogLevel.Information, "Domains are authorized by pixel-management at {BaseUrl}; configurations are cached for {PositiveTtl} (unknown domains for {NegativeTtl})")]
    public static partial void UsingPixelManagement(ILogger logger, string baseUrl, TimeSpan positiveTtl, TimeSpan negativeTtl);

    [LoggerMessage(1106, LogLevel.Debug, "pixel-management answered {StatusCode} for domain {Domain} in {ElapsedMs:0.0} ms")]
    public static partial void PixelManagementAnswered(ILogger logger, int statusCode, string domain, double elapsedMs);

    [LoggerMessage(1107, LogLevel.Warning, "pixel-management lookup of domain {Domain} failed after {ElapsedMs:0.0} ms: {Reason}")]
    public static partial void PixelManagementFailed(ILogger logger, string domain, double elapsedMs, string reason);

    [LoggerMessage(1108, LogLevel.Warning, "pixel-management returned an unusable configuration for domain {Domain}: {Error}; the domain is treated as unauthorized")]
    public static partial void PixelManagementInvalidConfig(ILogger logger, string domain, string error);

    [LoggerMessage(1109, LogLevel.Warning, "pixel-management is failing: serving the cached configuration of domain {Domain} (client {ClientId}), last confirmed {Age} ago")]
    public static partial void ServingStale(ILogger logger, string domain, string clientId, TimeSpan age);

    [LoggerMessage(1110, LogLevel.Error, "pixel-management has not confirmed the configuration of domain {Domain} for {Age}, longer than the stale limit {StaleLimit}: its requests are refused with 503 until pixel-management answers")]
    public static partial void StaleLimitReached(ILogger logger, string domain, TimeSpan age, TimeSpan staleLimit);

    [LoggerMessage(1111, LogLevel.Information, "pixel-management is answering again")]
    public static partial void PixelManagementRecovered(ILogger logger);

    [LoggerMessage(1112, LogLevel.Debug, "pixel-management does not know domain {Domain}")]
    public static partial void PixelManagementUnknownDomain(ILogger logger, string domain);

    [LoggerMessage(1113, LogLevel.Warning, "A domain lookup was refused before reaching pixel-management: the value ({Length} characters) is not a normalised domain name")]
    public static partial void NotNormalized(ILogger logger, int length);

    [LoggerMessage(1114, LogLevel.Information, "CORS preflight from {Domain} refused: {Status}")]
    public static partial void PreflightRefused(ILogger logger, string domain, DomainAuthorizationStatus status);

    [LoggerMessage(1115, LogLevel.Debug, "pixel-management answered {StatusCode} for client {ClientId} in {ElapsedMs:0.0} ms")]
    public static partial void PixelManagementAnsweredClient(ILogger logger, int statusCode, string clientId, double elapsedMs);

    [LoggerMessage(1116, LogLevel.Debug, "pixel-management does not know client {ClientId}")]
    public static partial void PixelManagementUnknownClient(ILogger logger, string clientId);

    [LoggerMessage(1117, LogLevel.Warning, "pixel-management returned an unusable configuration for client {ClientId}: {Error}; the client is treated as unknown")]
    public static partial void PixelManagementInvalidClientConfig(ILogger logger, string clientId, string error);

    [LoggerMessage(1118, LogLevel.Warning, "pixel-management lookup of client {ClientId} failed after {ElapsedMs:0.0} ms: {Reason}")]
    public static partial void PixelManagementClientFailed(ILogger logger, string clientId, double elapsedMs, string reason);

    [LoggerMessage(1119, LogLevel.Warning, "pixel-management is failing: serving the cached configuration of client {ClientId}, last confirmed {Age} ago")]
    public static partial void ServingStaleClient(ILogger logger, string clientId, TimeSpan age);

    [LoggerMessage(1120, LogLevel.Error, "pixel-management has not confirmed the configuration of client {ClientId} for {Age}, longer than the stale limit {StaleLimit}: its lookups fail until pixel-management answers")]
    public static partial void ClientStaleLimitReached(ILogger logger, string clientId, TimeSpan age, TimeSpan staleLimit);

    [LoggerMessage(1121, LogLevel.Warning, "A client lookup was refused before reaching pixel-management: the value ({Length} characters) is not a plain client id")]
    public static partial void InvalidClientId(ILogger logger, int length);

    [LoggerMessage(1122, LogLevel.Error, "The changed clients file '{Path}' was refused; the previous one stays in force.")]
    public static partial void ClientsFileRefused(ILogger logger, string path, Exception exception);

    [LoggerMessage(1123, LogLevel.Warning, "Lookups of domains and clients that are not cached are beyond their budget: {Global} refused by the global budget ({PermitsPerSecond}/s, burst {Burst}: answered 503) and {PerClient} by client addresses' budgets ({PermitsPerSecondPerClient}/s, burst {BurstPerClient}: answered 429) since the last report")]
    public static partial void LookupsThrottled(ILogger logger, long global, long perClient, double permitsPerSecond, int burst, double permitsPerSecondPerClient, int burstPerClient);

    [LoggerMessage(1124, LogLevel.Debug, "A {Kind} lookup was not made: the {Scope} lookup budget is spent")]
    public static partial void LookupThrottled(ILogger logger, LookupKind kind, LookupBudgetScope scope);
}
