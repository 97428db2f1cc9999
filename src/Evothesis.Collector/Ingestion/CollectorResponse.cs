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

    /// <summary>Gets the authorized client configuration's domain, when the request got as far as authorization.</summary>
    public string? AuthorizedDomain { get; internal init; }
}
