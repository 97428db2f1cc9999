namespace Evothesis.Collector.Ingestion;

/// <summary>The answer to a <c>POST /collect</c> request, for a host adapter to write.</summary>
public sealed class CollectorResponse
{
    internal CollectorResponse(int statusCode, string contentType, ReadOnlyMemory<byte> body, TimeSpan? retryAfter, int acceptedCount)
    {
        StatusCode = statusCode;
        ContentType = contentType;
        Body = body;
        RetryAfter = retryAfter;
        AcceptedCount = acceptedCount;
    }

    /// <summary>Gets the HTTP status code: 202 when events were accepted, an error status otherwise.</summary>
    public int StatusCode { get; }

    /// <summary>Gets the content type of <see cref="Body"/>: <c>application/json</c> or <c>application/problem+json</c>.</summary>
    public string ContentType { get; }

    /// <summary>Gets the UTF-8 JSON body.</summary>
    public ReadOnlyMemory<byte> Body { get; }

    /// <summary>Gets the delay to send in a <c>Retry-After</c> header, if any.</summary>
    public TimeSpan? RetryAfter { get; }

    /// <summary>Gets the number of events accepted.</summary>
    public int AcceptedCount { get; }

    /// <summary>
    /// Gets the domain the request was authorized for, on every response produced after its <c>Origin</c> (or
    /// <c>Referer</c>, or <c>siteId</c>) domain was authorized, errors included, so that host adapters can grant CORS
    /// and the browser can read the answer. <see langword="null"/> when the request was refused before or by authorization.
    /// </summary>
    public string? AuthorizedDomain { get; internal set; }

    /// <summary>
    /// Gets the request's <c>Origin</c>, exactly as sent, when that origin's domain was authorized: the value a host
    /// adapter echoes in <c>Access-Control-Allow-Origin</c>. <see langword="null"/> otherwise, and then no CORS
    /// grant may be sent.
    /// </summary>
    public string? AllowedOrigin { get; internal set; }

    /// <summary>Gets the reason of a refusal for logs and metrics, when it is not told by the status code alone.</summary>
    internal string? Reason { get; set; }
}
