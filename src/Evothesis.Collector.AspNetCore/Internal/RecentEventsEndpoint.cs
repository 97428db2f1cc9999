using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;
using Evothesis.Collector.Events.Internal;
using Evothesis.Collector.Sinks.Recent;
using Microsoft.AspNetCore.Http;

namespace Evothesis.Collector.AspNetCore.Internal;

/// <summary>
/// <c>GET /events/recent?limit=N&amp;client_id=X</c>: the most recently stored events, newest first, as a JSON
/// array in the stored shape.
/// </summary>
internal sealed class RecentEventsEndpoint(IRecentEventStore store)
{
    public const int DefaultLimit = 10;
    public const int MaxLimit = 1000;

    private static readonly JsonWriterOptions Options = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public async Task HandleAsync(HttpContext context)
    {
        var query = context.Request.Query;
        var limit = DefaultLimit;
        if (query.TryGetValue("limit", out var limitText)
            && (!int.TryParse(limitText, NumberStyles.None, CultureInfo.InvariantCulture, out limit) || limit is < 1 or > MaxLimit))
        {
            await Results.Problem(
                statusCode: 400,
                title: "Invalid limit",
                detail: $"'limit' must be a whole number from 1 to {MaxLimit}.").ExecuteAsync(context).ConfigureAwait(false);
            return;
        }

        var clientId = query.TryGetValue("client_id", out var clientText) && !string.IsNullOrWhiteSpace(clientText)
            ? clientText.ToString()
            : null;
        var events = await store.GetRecentAsync(limit, clientId, context.RequestAborted).ConfigureAwait(false);

        var response = context.Response;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = "application/json; charset=utf-8";
        response.Headers.CacheControl = "no-store";
        var writer = new Utf8JsonWriter(response.BodyWriter, Options);
        await using (writer.ConfigureAwait(false))
        {
            writer.WriteStartArray();
            foreach (var e in events)
            {
                CollectedEventJson.Write(writer, e);
            }

            writer.WriteEndArray();
            await writer.FlushAsync(context.RequestAborted).ConfigureAwait(false);
        }
    }
}
