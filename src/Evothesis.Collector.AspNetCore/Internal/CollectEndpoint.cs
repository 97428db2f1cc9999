using System.Globalization;
using Evothesis.Collector.Authorization;
using Evothesis.Collector.Authorization.Internal;
using Evothesis.Collector.Ingestion;
using Microsoft.AspNetCore.Http;

namespace Evothesis.Collector.AspNetCore.Internal;

/// <summary>
/// Translates between <see cref="HttpContext"/> and the core's <see cref="CollectorPipeline"/>, and answers CORS:
/// an <c>Origin</c> is echoed only once its domain is authorized, by the same cached authorizer as events.
/// </summary>
internal sealed class CollectEndpoint(CollectorPipeline pipeline, AuthorizationMetrics metrics, CollectorOptions options)
{
    /// <summary>The request headers a page may send: the body's type, and gzip bodies compressed in the browser.</summary>
    public const string AllowedHeaders = "Content-Type, Content-Encoding";

    private readonly string _maxAge = ((long)options.Authorization.CorsMaxAge.TotalSeconds).ToString(CultureInfo.InvariantCulture);
    private readonly TimeSpan _retryAfter = options.RetryAfter;

    public Task HandleAsync(HttpContext context) =>
        HttpMethods.IsOptions(context.Request.Method) ? HandlePreflightAsync(context) : HandlePostAsync(context);

    private static void WriteRetryAfter(HttpResponse response, TimeSpan retryAfter) =>
        response.Headers.RetryAfter = ((int)Math.Ceiling(retryAfter.TotalSeconds)).ToString(CultureInfo.InvariantCulture);

    private static string? NullIfEmpty(string value) => value.Length == 0 ? null : value;

    private async Task HandlePostAsync(HttpContext context)
    {
        var request = context.Request;
        var origin = request.Headers.Origin.ToString();
        var collectorRequest = new CollectorRequest
        {
            Body = request.Body,
            ContentLength = request.ContentLength,
            ContentType = request.ContentType,
            ContentEncoding = request.Headers.ContentEncoding.ToString(),
            Origin = origin,
            Referer = request.Headers.Referer.ToString(),
            UserAgent = NullIfEmpty(request.Headers.UserAgent.ToString()),
            RemoteIpAddress = context.Connection.RemoteIpAddress,
            GlobalPrivacyControl = request.Headers["Sec-GPC"].ToString().Trim() == "1",
            RequestId = context.TraceIdentifier,
        };

        CollectorResponse result;
        try
        {
            result = await pipeline.ProcessAsync(collectorRequest, context.RequestAborted).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            // The sender is gone; its queued events are still written.
            return;
        }

        var response = context.Response;
        response.StatusCode = result.StatusCode;
        response.ContentType = result.ContentType;
        response.Headers.CacheControl = "no-store";
        if (origin.Length > 0)
        {
            // The answer differs by Origin: a cache in between must not hand one site's grant to another.
            response.Headers.Vary = "Origin";
            if (result.AllowedOrigin is { } allowed)
            {
                response.Headers.AccessControlAllowOrigin = allowed;

                // Not a CORS-safelisted response header: without this, the pixel cannot read how long to wait.
                response.Headers.AccessControlExposeHeaders = "Retry-After";
            }
        }

        if (result.RetryAfter is { } retryAfter)
        {
            WriteRetryAfter(response, retryAfter);
        }

        response.ContentLength = result.Body.Length;
        await response.Body.WriteAsync(result.Body, context.RequestAborted).ConfigureAwait(false);
    }

    private async Task HandlePreflightAsync(HttpContext context)
    {
        var request = context.Request;
        var response = context.Response;
        var origin = request.Headers.Origin.ToString();
        response.Headers.Vary = "Origin";
        if (origin.Length == 0 || request.Headers.AccessControlRequestMethod.Count == 0)
        {
            // Not a preflight: say what the endpoint accepts.
            response.Headers.Allow = "POST, OPTIONS";
            response.StatusCode = StatusCodes.Status204NoContent;
            return;
        }

        DomainAuthorization authorization;
        string? domain;
        try
        {
            (domain, authorization) = await pipeline.AuthorizeOriginAsync(origin, context.Connection.RemoteIpAddress, context.RequestAborted).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            return;
        }

        switch (authorization.Status)
        {
            case DomainAuthorizationStatus.Authorized:
                metrics.Preflight("granted");
                response.StatusCode = StatusCodes.Status204NoContent;
                response.Headers.AccessControlAllowOrigin = origin;
                response.Headers.AccessControlAllowMethods = "POST";
                response.Headers.AccessControlAllowHeaders = AllowedHeaders;
                response.Headers.AccessControlMaxAge = _maxAge;
                break;
            case DomainAuthorizationStatus.Unavailable:
                // No grant, and a hint for whoever reads the network log; the pixel keeps its events and retries.
                metrics.Preflight("unavailable");
                response.StatusCode = StatusCodes.Status503ServiceUnavailable;
                WriteRetryAfter(response, authorization.RetryAfter ?? _retryAfter);
                break;
            case DomainAuthorizationStatus.Throttled:
                // The lookup budget is spent (see LookupBudgetOptions): as for events, 429 for this sender, 503 for all.
                metrics.Preflight("throttled");
                response.StatusCode = authorization.ThrottledBy == LookupBudgetScope.ClientAddress
                    ? StatusCodes.Status429TooManyRequests
                    : StatusCodes.Status503ServiceUnavailable;
                WriteRetryAfter(response, authorization.RetryAfter ?? _retryAfter);
                break;
            default:
                metrics.Preflight(domain is null ? "invalid_origin" : "unauthorized");
                response.StatusCode = StatusCodes.Status403Forbidden;
                break;
        }
    }
}
