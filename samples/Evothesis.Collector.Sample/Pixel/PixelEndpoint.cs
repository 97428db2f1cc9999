using System.Security.Cryptography;
using System.Text.RegularExpressions;
using Evothesis.Collector.Authorization;
using Microsoft.AspNetCore.Http.Extensions;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;

namespace Evothesis.Collector.Sample.Pixel;

/// <summary>
/// <c>GET /pixel/{client_id}/tracking.js</c>: the tracking script with the client's configuration embedded,
/// for clients the <see cref="IClientDirectory"/> knows; 404 for any other id.
/// </summary>
internal sealed partial class PixelEndpoint(
    PixelScript script,
    IClientDirectory directory,
    IOptions<PixelOptions> options,
    string collectPath,
    ILogger<PixelEndpoint> logger)
{
    public const string Pattern = "/pixel/{client_id}/tracking.js";

    public async Task HandleAsync(HttpContext context, string client_id)
    {
        var response = context.Response;
        response.Headers.CacheControl = "no-cache";
        response.Headers.XContentTypeOptions = "nosniff";

        // Ids are looked up and echoed into the script: only plain identifiers are worth a lookup.
        if (!ClientIdPattern().IsMatch(client_id))
        {
            PixelLog.InvalidClientId(logger);
            await NotFoundAsync(context).ConfigureAwait(false);
            return;
        }

        ClientConfig? client;
        try
        {
            client = await directory.FindClientAsync(client_id, context.RequestAborted).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            if (ex is ClientDirectoryUnavailableException unavailable)
            {
                // Expected while pixel-management is down: one line, no stack trace.
                PixelLog.DirectoryUnavailable(logger, client_id, unavailable.Message);
            }
            else
            {
                PixelLog.DirectoryFailed(logger, client_id, ex);
            }

            var retryAfter = (ex as ClientDirectoryUnavailableException)?.RetryAfter ?? TimeSpan.FromSeconds(30);
            response.Headers.RetryAfter = ((int)Math.Ceiling(retryAfter.TotalSeconds)).ToString(System.Globalization.CultureInfo.InvariantCulture);
            await Results.Problem(
                statusCode: StatusCodes.Status503ServiceUnavailable,
                title: "Client directory unavailable",
                detail: "The client's configuration cannot be read now; try again later.").ExecuteAsync(context).ConfigureAwait(false);
            return;
        }

        if (client is null)
        {
            PixelLog.UnknownClient(logger, client_id);
            await NotFoundAsync(context).ConfigureAwait(false);
            return;
        }

        var settings = options.Value;
        var request = context.Request;
        var endpoint = settings.CollectorEndpoint
            ?? UriHelper.BuildAbsolute(request.Scheme, request.Host, request.PathBase, collectPath);
        var body = script.Render(client, endpoint, settings);

        var etag = new EntityTagHeaderValue("\"" + Convert.ToHexStringLower(SHA256.HashData(body).AsSpan(0, 16)) + "\"");
        response.Headers.ETag = etag.ToString();
        // A public script without credentials: any page may load it, also with crossorigin or under COEP.
        response.Headers.AccessControlAllowOrigin = "*";
        response.Headers["Cross-Origin-Resource-Policy"] = "cross-origin";
        PixelLog.ScriptServed(logger, client.ClientId);

        if (request.GetTypedHeaders().IfNoneMatch.Any(tag => tag.Compare(etag, useStrongComparison: false)))
        {
            response.StatusCode = StatusCodes.Status304NotModified;
            return;
        }

        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = "text/javascript; charset=utf-8";
        response.ContentLength = body.Length;
        await response.Body.WriteAsync(body, context.RequestAborted).ConfigureAwait(false);
    }

    private static Task NotFoundAsync(HttpContext context) =>
        Results.Problem(
            statusCode: StatusCodes.Status404NotFound,
            title: "Unknown client",
            detail: "No tracking script exists for this client id.").ExecuteAsync(context);

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$", RegexOptions.CultureInvariant)]
    private static partial Regex ClientIdPattern();
}
