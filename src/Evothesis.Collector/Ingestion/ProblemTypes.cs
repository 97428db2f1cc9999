namespace Evothesis.Collector.Ingestion;

/// <summary>
/// The <c>type</c> URIs of the RFC 7807 problems <c>/collect</c> answers with, so senders can tell them apart
/// without parsing the human-readable <c>detail</c>.
/// </summary>
public static class ProblemTypes
{
    /// <summary>The body is larger than <see cref="RequestLimitsOptions.MaxBodyBytes"/> (413).</summary>
    public const string BodyTooLarge = "urn:evothesis:collector:body-too-large";

    /// <summary>A batch carries more events than <see cref="RequestLimitsOptions.MaxEventsPerBatch"/> (413).</summary>
    public const string TooManyEvents = "urn:evothesis:collector:too-many-events";

    /// <summary>
    /// A batch's events would carry more than <see cref="RequestLimitsOptions.MaxPayloadExpansion"/> times its body once
    /// the envelope's fields are copied into its members (413).
    /// </summary>
    public const string PayloadExpansionTooLarge = "urn:evothesis:collector:payload-expansion-too-large";

    /// <summary>The JSON nests deeper than <see cref="RequestLimitsOptions.MaxJsonDepth"/> (400).</summary>
    public const string JsonTooDeep = "urn:evothesis:collector:json-too-deep";

    /// <summary>A string is longer than <see cref="RequestLimitsOptions.MaxStringLength"/> (400).</summary>
    public const string StringTooLong = "urn:evothesis:collector:string-too-long";

    /// <summary>The body is not valid JSON, not valid UTF-8 or not valid gzip (400).</summary>
    public const string MalformedBody = "urn:evothesis:collector:malformed-body";

    /// <summary>The event, or every event of the batch, is invalid (400).</summary>
    public const string InvalidEvent = "urn:evothesis:collector:invalid-event";

    /// <summary>The content type or content encoding is not supported (415).</summary>
    public const string UnsupportedMediaType = "urn:evothesis:collector:unsupported-media-type";

    /// <summary>The request names no site: no <c>Origin</c>, <c>Referer</c> or <c>siteId</c> (400).</summary>
    public const string SiteMissing = "urn:evothesis:collector:site-missing";

    /// <summary>No client owns the request's domain (403).</summary>
    public const string DomainNotAuthorized = "urn:evothesis:collector:domain-not-authorized";

    /// <summary>The domain's owner cannot be determined now (503, retry later).</summary>
    public const string AuthorizationUnavailable = "urn:evothesis:collector:authorization-unavailable";

    /// <summary>
    /// The sender's address named too many sites the collector has not cached in a short time (429, retry later): see
    /// <see cref="Authorization.LookupBudgetOptions"/>.
    /// </summary>
    public const string LookupRateLimited = "urn:evothesis:collector:lookup-rate-limited";

    /// <summary>
    /// The collector is looking up too many sites it has not cached, from all senders together (503, retry later): see
    /// <see cref="Authorization.LookupBudgetOptions"/>.
    /// </summary>
    public const string LookupBudgetExhausted = "urn:evothesis:collector:lookup-budget-exhausted";

    /// <summary>
    /// The host's rate limiter refused the request (429, retry later). Not written by the collector itself: a host that
    /// puts <c>RequireRateLimiting()</c> on the endpoint can answer with it, as the sample host does.
    /// </summary>
    public const string RateLimited = "urn:evothesis:collector:rate-limited";

    /// <summary>The client's configuration does not allow its events to be stored as its rules require (503).</summary>
    public const string ClientMisconfigured = "urn:evothesis:collector:client-misconfigured";

    /// <summary>The write-ahead spool cannot be written: a missing or read-only folder, a disk error (503, retry later).</summary>
    public const string SpoolUnavailable = "urn:evothesis:collector:spool-unavailable";

    /// <summary>The write-ahead spool is full (503, retry later).</summary>
    public const string QueueFull = "urn:evothesis:collector:queue-full";

    /// <summary>The events could not be written (503, retry later).</summary>
    public const string WriteFailed = "urn:evothesis:collector:write-failed";

    /// <summary>The collector is shutting down (503, retry later).</summary>
    public const string ShuttingDown = "urn:evothesis:collector:shutting-down";
}
