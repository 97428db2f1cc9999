using System.Globalization;
using Evothesis.Collector.Ingestion;
using Microsoft.AspNetCore.Http;

namespace Evothesis.Collector.AspNetCore.Internal;

/// <summary>Translates between <see cref="HttpContext"/> and the core's <see cref="CollectorPipeline"/>.</summary>
internal sealed class CollectEndpoint(CollectorPipeline pipeline)
{
    public async Task HandleAsync(HttpContext context)
    {
        var request = context.Request;
        var collectorRequest = new CollectorRequest
        {
            Body = request.Body,
            ContentLength = request.ContentLength,
            ContentType = request.ContentType,
            ContentEncoding = request.Headers.ContentEncoding.ToString(),
            Origin = request.Headers.Origin.ToString(),
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
        if (result.RetryAfter is { } retryAfter)
        {
            response.Headers.RetryAfter = ((int)Math.Ceiling(retryAfter.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
        }

        response.ContentLength = result.Body.Length;
        await response.Body.WriteAsync(result.Body, context.RequestAborted).ConfigureAwait(false);
    }

    private static string? NullIfEmpty(string value) => value.Length == 0 ? null : value;
}
