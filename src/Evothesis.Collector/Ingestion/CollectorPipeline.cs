using System.Buffers.Binary;
using System.Net;
using Evothesis.Collector.Audit;
using Evothesis.Collector.Authorization;
using Evothesis.Collector.Authorization.Internal;
using Evothesis.Collector.Batching;
using Evothesis.Collector.Diagnostics;
using Evothesis.Collector.Events;
using Evothesis.Collector.Ingestion.Internal;
using Evothesis.Collector.Privacy;
using Evothesis.Collector.Privacy.Internal;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Evothesis.Collector.Ingestion;

/// <summary>
/// Handles one <c>POST /collect</c> request from start to acknowledgement: reads and validates the body,
/// resolves and authorizes the domain, creates the events with the client's privacy rules applied, runs the
/// <see cref="IEventProcessor"/>s and queues the events, waiting for their write in durable mode.
/// </summary>
/// <remarks>
/// Host adapters (such as <c>MapEvothesisCollector()</c>) translate their request into a
/// <see cref="CollectorRequest"/> and write the <see cref="CollectorResponse"/> back; other hosts can do the
/// same. Resolve it from the service provider after <c>AddEvothesisCollector()</c>.
/// </remarks>
public sealed class CollectorPipeline
{
    private readonly CollectorOptions _options;
    private readonly IDomainAuthorizer _authorizer;
    private readonly PrivacyRules _privacy;
    private readonly IEventProcessor[] _processors;
    private readonly EventBatcher _batcher;
    private readonly TimeProvider _time;
    private readonly CollectorMetrics _metrics;
    private readonly ILogger _logger;

    internal CollectorPipeline(
        IOptions<CollectorOptions> options,
        IDomainAuthorizer authorizer,
        PrivacyRules privacy,
        IEnumerable<IEventProcessor> processors,
        EventBatcher batcher,
        TimeProvider timeProvider,
        CollectorMetrics metrics,
        ILogger<CollectorPipeline> logger)
    {
        _options = options.Value;
        _authorizer = authorizer;
        _privacy = privacy;
        _processors = processors.ToArray();
        _batcher = batcher;
        _time = timeProvider;
        _metrics = metrics;
        _logger = logger;
    }

    /// <summary>Handles a request.</summary>
    /// <param name="request">The request.</param>
    /// <param name="cancellationToken">Signals that the sender is gone; queued events are still written.</param>
    /// <returns>The response to send.</returns>
    public async ValueTask<CollectorResponse> ProcessAsync(CollectorRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        using var activity = CollectorActivitySource.Instance.StartActivity("evothesis.collector.collect");
        var response = await ProcessCoreAsync(request, cancellationToken).ConfigureAwait(false);
        _metrics.RequestCompleted(response.StatusCode);
        activity?.SetTag("http.response.status_code", response.StatusCode);
        return response;
    }

    /// <summary>Resolves the domain a request's headers name: <c>Origin</c>, else <c>Referer</c>.</summary>
    /// <param name="request">The request.</param>
    /// <param name="domain">The normalised domain, when a header names one.</param>
    /// <returns><see langword="false"/> when an <c>Origin</c> is present but names no valid http(s) domain.</returns>
    internal static bool TryGetHeaderDomain(CollectorRequest request, out string? domain)
    {
        domain = null;
        if (NamesOrigin(request.Origin))
        {
            if (!DomainName.TryFromOrigin(request.Origin, out var fromOrigin))
            {
                return false;
            }

            domain = fromOrigin;
            return true;
        }

        // A Referer that names no http(s) domain (an app, a file) is no claim at all.
        if (DomainName.TryFromUrl(request.Referer, out var fromReferer))
        {
            domain = fromReferer;
        }

        return true;
    }

    // "null" is the Origin of sandboxed frames and file pages: it names no site, so the Referer is asked instead.
    private static bool NamesOrigin([System.Diagnostics.CodeAnalysis.NotNullWhen(true)] string? origin) =>
        !string.IsNullOrWhiteSpace(origin) && !origin.Trim().Equals("null", StringComparison.Ordinal);

    /// <summary>Corrects a client timestamp for the client's clock skew and clamps it to the receive time.</summary>
    internal static DateTimeOffset CorrectTimestamp(
        DateTimeOffset? timestamp,
        DateTimeOffset? sentAt,
        DateTimeOffset receivedAt,
        TimeSpan futureTolerance)
    {
        if (timestamp is not { } value)
        {
            return receivedAt;
        }

        try
        {
            if (sentAt is { } sent)
            {
                // The client's clock is off by (sentAt - receivedAt); the same error is in its timestamps.
                value -= sent - receivedAt;
            }
        }
        catch (ArgumentOutOfRangeException)
        {
            return receivedAt;
        }

        return value > receivedAt + futureTolerance ? receivedAt : ToMicroseconds(value);
    }

    // The id after another of the same request: the UUIDv7 with its 62 random low bits one higher (RFC 9562's counter
    // method), so a batch draws randomness from the operating system once instead of once per event. Unique within the
    // request; against other requests as unlikely to collide as random ids. A fresh id when the bits would overflow.
    internal static Guid NextId(Guid previous, DateTimeOffset receivedAt)
    {
        const ulong RandomBits = 0x3FFF_FFFF_FFFF_FFFF;
        Span<byte> bytes = stackalloc byte[16];
        previous.TryWriteBytes(bytes, bigEndian: true, out _);
        var low = BinaryPrimitives.ReadUInt64BigEndian(bytes[8..]);
        if ((low & RandomBits) == RandomBits)
        {
            return Guid.CreateVersion7(receivedAt);
        }

        BinaryPrimitives.WriteUInt64BigEndian(bytes[8..], low + 1);
        return new Guid(bytes, bigEndian: true);
    }

    // PostgreSQL keeps microseconds: truncating here makes every sink store the same instant.
    internal static DateTimeOffset ToMicroseconds(DateTimeOffset value)
    {
        var ticks = value.UtcTicks;
        return new DateTimeOffset(ticks - (ticks % 10), TimeSpan.Zero);
    }

    // Every event of a request stores the header: it is bounded like any value that repeats. A cut never splits a
    // surrogate pair.
    internal static string? Truncate(string? value, int maxLength)
    {
        if (value is null || value.Length <= maxLength)
        {
            return value;
        }

        var length = char.IsHighSurrogate(value[maxLength - 1]) ? maxLength - 1 : maxLength;
        return value[..length];
    }

    private static bool IsSupportedContentType(string? contentType)
    {
        if (string.IsNullOrWhiteSpace(contentType))
        {
            return true;
        }

        var mediaType = contentType.AsSpan();
        var semicolon = mediaType.IndexOf(';');
        if (semicolon >= 0)
        {
            mediaType = mediaType[..semicolon];
        }

        mediaType = mediaType.Trim();
        return mediaType.Equals("application/json", StringComparison.OrdinalIgnoreCase)
            || mediaType.Equals("text/plain", StringComparison.OrdinalIgnoreCase)
            || mediaType.EndsWith("+json", StringComparison.OrdinalIgnoreCase);
    }

    private async ValueTask<CollectorResponse> ProcessCoreAsync(CollectorRequest request, CancellationToken cancellationToken)
    {
        if (!TryGetHeaderDomain(request, out var domain))
        {
            return Refuse(ResponseWriter.Problem(
                403,
                ProblemTypes.DomainNotAuthorized,
                "Domain not authorized",
                "The Origin header does not name a valid http(s) domain."), "invalid_origin");
        }

        if (domain is null && _options.Authorization.RequireOrigin)
        {
            return Refuse(ResponseWriter.Problem(
                403,
                ProblemTypes.DomainNotAuthorized,
                "Domain not authorized",
                "This collector accepts events only from browsers: the request needs an Origin or Referer header."), "origin_required");
        }

        ClientConfig? client = null;
        if (domain is not null)
        {
            var refusal = await AuthorizeAsync(domain, request.RemoteIpAddress, cancellationToken).ConfigureAwait(false);
            if (refusal.Response is not null)
            {
                return Refuse(refusal.Response);
            }

            client = refusal.Client;
        }

        var response = await ProcessAuthorizedAsync(request, domain, client, cancellationToken).ConfigureAwait(false);

        // Every answer after the header domain was authorized names it, errors included: the adapter grants CORS
        // on it, so a browser can read why its events were refused.
        if (domain is not null)
        {
            response.AuthorizedDomain ??= domain;
            if (NamesOrigin(request.Origin))
            {
                // TryGetHeaderDomain took the domain from this Origin: it is the one authorized.
                response.AllowedOrigin = request.Origin;
            }
        }

        return response;
    }

    /// <summary>Authorizes the domain of a CORS preflight's <c>Origin</c> through the same (cached) authorizer as events.</summary>
    /// <param name="origin">The <c>Origin</c> header.</param>
    /// <param name="clientAddress">The sender's address, for the lookup budget.</param>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <returns>The origin's normalised domain (<see langword="null"/> when it names none) and its authorization.</returns>
    internal async ValueTask<(string? Domain, DomainAuthorization Authorization)> AuthorizeOriginAsync(
        string? origin,
        IPAddress? clientAddress,
        CancellationToken cancellationToken)
    {
        if (!DomainName.TryFromOrigin(origin, out var domain))
        {
            return (null, DomainAuthorization.Unauthorized);
        }

        var result = await _authorizer.AuthorizeAsync(domain, clientAddress, cancellationToken).ConfigureAwait(false);
        // A refusal by the lookup budget is logged by the authorizer, once per interval: a flood writes no line per request.
        if (result.Status is not (DomainAuthorizationStatus.Authorized or DomainAuthorizationStatus.Throttled))
        {
            AuthorizationLog.PreflightRefused(_logger, domain, result.Status);
        }

        return (domain, result);
    }

    // After the header domain (if any) is authorized: the content checks, the body, and the siteId when no header
    // named the site.
    private async ValueTask<CollectorResponse> ProcessAuthorizedAsync(
        CollectorRequest request,
        string? domain,
        ClientConfig? client,
        CancellationToken cancellationToken)
    {
        if (!IsSupportedContentType(request.ContentType))
        {
            return Refuse(ResponseWriter.Problem(
                415,
                ProblemTypes.UnsupportedMediaType,
                "Unsupported media type",
                "Send events as application/json, or as text/plain (navigator.sendBeacon)."), "unsupported_media_type");
        }

        if (!RequestBodyReader.IsSupportedEncoding(request.ContentEncoding))
        {
            return Refuse(ResponseWriter.Problem(
                415,
                ProblemTypes.UnsupportedMediaType,
                "Unsupported content encoding",
                "The body may be sent as is or with Content-Encoding: gzip."), "unsupported_encoding");
        }

        var domainFromHeaders = domain is not null;
        ParsedRequest parsed;
        try
        {
            var (buffer, length) = await RequestBodyReader.ReadAsync(request, _options.Limits.MaxBodyBytes, cancellationToken).ConfigureAwait(false);

            // Cheap refusal first: a site named only by the body is authorized before the body is parsed, so an
            // unauthorized one costs one scan that builds nothing.
            if (domain is null && CollectRequestParser.TryScanSite(buffer, length, _options.Limits, out var scannedSite, out var scannedMembers)
                && scannedSite is not null)
            {
                var early = await AuthorizeSiteIdAsync(scannedSite, request.RemoteIpAddress, cancellationToken).ConfigureAwait(false);
                if (early.Response is not null)
                {
                    _metrics.EventsReceived(scannedMembers);
                    return RefuseEvents(scannedMembers, early.Response);
                }

                domain = early.Domain;
                client = early.Client;
            }

            parsed = CollectRequestParser.Parse(buffer, length, _options.Limits);
        }
        catch (CollectorProblemException problem)
        {
            if (problem.Rejected is { Count: > 0 } rejectedMembers)
            {
                _metrics.EventsReceived(rejectedMembers.Count);
                foreach (var r in rejectedMembers)
                {
                    _metrics.EventsRejected(1, r.Reason);
                }
            }

            return Refuse(ResponseWriter.Problem(problem), problem.Reason);
        }

        _metrics.EventsReceived(parsed.MemberCount);
        if (domain is null)
        {
            if (parsed.SiteId is null)
            {
                return RefuseEvents(parsed, ResponseWriter.Problem(
                    400,
                    ProblemTypes.SiteMissing,
                    "Site missing",
                    "The request names no site: send it from a page (Origin) or name the site in 'siteId'."));
            }

            var refusal = await AuthorizeSiteIdAsync(parsed.SiteId, request.RemoteIpAddress, cancellationToken).ConfigureAwait(false);
            if (refusal.Response is not null)
            {
                return RefuseEvents(parsed, refusal.Response);
            }

            domain = refusal.Domain;
            client = refusal.Client;
        }

        return await AcceptAsync(request, parsed, domain!, domainFromHeaders, client!, cancellationToken).ConfigureAwait(false);
    }

    // The accept path, top to bottom: the client's IP rule, the events, the privacy rules, the rejections, the spool,
    // the acknowledgement.
    private async ValueTask<CollectorResponse> AcceptAsync(
        CollectorRequest request,
        ParsedRequest parsed,
        string domain,
        bool domainFromHeaders,
        ClientConfig client,
        CancellationToken cancellationToken)
    {
        if (!ClientIpPolicy.TryApply(client, request.RemoteIpAddress, out var ip))
        {
            IngestionLog.MissingSalt(_logger, client.ClientId);
            return RefuseEvents(parsed, ResponseWriter.Problem(
                503,
                ProblemTypes.ClientMisconfigured,
                "Client misconfigured",
                "The site's privacy settings cannot be applied right now; the events were not stored.",
                _options.RetryAfter,
                authorizedDomain: domain), "client_misconfigured");
        }

        var receivedAt = ToMicroseconds(_time.GetUtcNow());

        // The parser's rejection list, owned by this request: the steps below add theirs.
        var rejected = parsed.Rejected;
        var events = BuildEvents(request, parsed, domain, domainFromHeaders, client, ip, receivedAt, rejected);
        var audit = events.Count > 0 ? ApplyPrivacy(request, domain, client, ip, receivedAt, events, rejected) : null;
        if (parsed.IsBatch)
        {
            IngestionLog.ProcessingBatch(_logger, events.Count, client.ClientId);
        }

        CountRejections(parsed, client, rejected);
        if (events.Count == 0)
        {
            return ResponseWriter.Accepted(0, rejected, domain);
        }

        var status = _batcher.TryEnqueue(events, audit, out var written);
        if (status != EnqueueStatus.Queued)
        {
            return NotSpooled(status, events.Count, domain);
        }

        if (written is not null && await WaitForAcknowledgementAsync(written, client, events.Count, domain, cancellationToken).ConfigureAwait(false) is { } failed)
        {
            return failed;
        }

        _metrics.EventsAccepted(events.Count);
        return ResponseWriter.Accepted(events.Count, rejected, domain);
    }

    // The stored events: attributed to the client and the site, stamped with the receive time and the client's corrected
    // time, with the address its IP rule allows. A member naming another site than the one authorized is rejected.
    private List<CollectedEvent> BuildEvents(
        CollectorRequest request,
        ParsedRequest parsed,
        string domain,
        bool domainFromHeaders,
        ClientConfig client,
        string? ip,
        DateTimeOffset receivedAt,
        List<Rejection> rejected)
    {
        var userAgent = Truncate(request.UserAgent, _options.Limits.MaxUserAgentLength);
        var events = new List<CollectedEvent>(parsed.Events.Count);
        var id = Guid.Empty;
        foreach (var p in parsed.Events)
        {
            // A siteId only names the site when no header does; then every event must name the same one.
            if (!domainFromHeaders && p.HasOwnSiteId
                && !(DomainName.TryFromSiteId(p.SiteId, out var own) && own == domain))
            {
                rejected.Add(new Rejection(p.Index, RejectionReasons.SiteMismatch));
                continue;
            }

            events.Add(new CollectedEvent
            {
                Id = id = id == Guid.Empty ? Guid.CreateVersion7(receivedAt) : NextId(id, receivedAt),
                EventId = p.EventId,
                EventType = p.EventType,
                ClientId = client.ClientId,
                SiteId = domain,
                SessionId = p.SessionId,
                Timestamp = CorrectTimestamp(p.Timestamp, parsed.SentAt, receivedAt, _options.FutureTimestampTolerance),
                ClientTimestamp = p.ClientTimestamp,
                ReceivedAt = receivedAt,
                PageData = p.PageData,
                EventData = p.EventData,
                CustomData = p.CustomData,
                Consent = p.Consent,
                Ip = ip,
                UserAgent = userAgent,
                RequestIndex = p.Index,
                DedicatedBucket = client.S3Bucket,
            });
        }

        return events;
    }

    // The collector's rules first (consent, then redaction), so host processors only see what may be kept. Events a rule
    // drops leave the list and are rejected with its reason. Returns the request's audit record, for clients audited.
    private AuditRecord? ApplyPrivacy(
        CollectorRequest request,
        string domain,
        ClientConfig client,
        string? ip,
        DateTimeOffset receivedAt,
        List<CollectedEvent> events,
        List<Rejection> rejected)
    {
        var context = PrivacyRules.CreateContext(client, domain, request, events);
        foreach (var processor in _privacy.Processors)
        {
            processor.Process(context);
        }

        foreach (var processor in _processors)
        {
            if (events.Count == 0)
            {
                break;
            }

            processor.Process(context);
        }

        foreach (var (dropped, reason) in context.Dropped)
        {
            rejected.Add(new Rejection(dropped.RequestIndex, reason));
        }

        _privacy.Completed(context);
        return _privacy.CreateAuditRecord(context, receivedAt, ip);
    }

    // Every rejected member is counted with its reason, in request order (the order the answer lists them in).
    private void CountRejections(ParsedRequest parsed, ClientConfig client, List<Rejection> rejected)
    {
        if (rejected.Count == 0)
        {
            return;
        }

        rejected.Sort((a, b) => a.Index.CompareTo(b.Index));
        foreach (var r in rejected)
        {
            _metrics.EventsRejected(1, r.Reason);
        }

        IngestionLog.EventsRejected(_logger, rejected.Count, parsed.MemberCount, client.ClientId);
    }

    // Durable and committed modes (and audited requests): the answer waits for the spool, or the first sink, to have the
    // events. Returns the 503 to send when they could not be confirmed, null when they were.
    private async ValueTask<CollectorResponse?> WaitForAcknowledgementAsync(
        Task written,
        ClientConfig client,
        int events,
        string domain,
        CancellationToken cancellationToken)
    {
        try
        {
            await written.WaitAsync(_options.Batching.AckTimeout, _time, cancellationToken).ConfigureAwait(false);
            return null;
        }
        catch (BatchWriteException ex)
        {
            IngestionLog.WriteFailed(_logger, client.ClientId);
            _metrics.EventsRejected(events, ex.Reason);
            return ResponseWriter.Problem(
                503,
                ProblemTypes.WriteFailed,
                "Write failed",
                "The events could not be stored; retry later.",
                _options.RetryAfter,
                authorizedDomain: domain);
        }
        catch (TimeoutException)
        {
            IngestionLog.AckTimedOut(_logger, client.ClientId, _options.Batching.AckTimeout);
            _metrics.EventsRejected(events, "ack_timeout");
            return ResponseWriter.Problem(
                503,
                ProblemTypes.WriteFailed,
                "Write pending",
                "The events were not confirmed as stored in time; retry later (events with an eventId are stored once).",
                _options.RetryAfter,
                authorizedDomain: domain);
        }
    }

    // The spool refused the request's record: nothing of it is stored, and the sender is told to retry.
    private CollectorResponse NotSpooled(EnqueueStatus status, int events, string domain)
    {
        var (statusCode, type, title, detail, reason) = status switch
        {
            EnqueueStatus.QueueFull => (503, ProblemTypes.QueueFull, "Spool full", "The collector is at capacity; retry later.", "spool_full"),
            EnqueueStatus.Unavailable => (503, ProblemTypes.SpoolUnavailable, "Storage unavailable", "The collector cannot write events to its disk right now; retry later.", "spool_unavailable"),
            EnqueueStatus.TooLarge => (413, ProblemTypes.BodyTooLarge, "Request too large", "The request's events are larger than the collector's spool can hold as one record.", "spool_record_too_large"),
            _ => (503, ProblemTypes.ShuttingDown, "Shutting down", "The collector is shutting down; retry later.", "shutting_down"),
        };

        if (status is EnqueueStatus.QueueFull or EnqueueStatus.Unavailable)
        {
            IngestionLog.SpoolRefused(_logger, reason);
        }

        _metrics.EventsRejected(events, reason);
        _metrics.RequestRefused(reason);
        return ResponseWriter.Problem(statusCode, type, title, detail, statusCode == 503 ? _options.RetryAfter : null, authorizedDomain: domain);
    }

    private async ValueTask<(string? Domain, ClientConfig? Client, CollectorResponse? Response)> AuthorizeSiteIdAsync(string siteId, IPAddress? clientAddress, CancellationToken cancellationToken)
    {
        if (!DomainName.TryFromSiteId(siteId, out var domain))
        {
            return (null, null, ResponseWriter.Problem(
                403,
                ProblemTypes.DomainNotAuthorized,
                "Domain not authorized",
                "The siteId is not a valid domain name."));
        }

        var (client, response) = await AuthorizeAsync(domain, clientAddress, cancellationToken).ConfigureAwait(false);
        return (domain, client, response);
    }

    private async ValueTask<(ClientConfig? Client, CollectorResponse? Response)> AuthorizeAsync(
        string domain,
        IPAddress? clientAddress,
        CancellationToken cancellationToken)
    {
        var result = await _authorizer.AuthorizeAsync(domain, clientAddress, cancellationToken).ConfigureAwait(false);
        switch (result.Status)
        {
            case DomainAuthorizationStatus.Authorized:
                AuthorizationLog.DomainAuthorized(_logger, domain, result.Client!.ClientId);
                return (result.Client, null);
            case DomainAuthorizationStatus.Unavailable:
                AuthorizationLog.AuthorizationUnavailable(_logger, domain);
                return (null, ResponseWriter.Problem(
                    503,
                    ProblemTypes.AuthorizationUnavailable,
                    "Authorization unavailable",
                    $"The owner of '{domain}' cannot be determined right now; retry later.",
                    result.RetryAfter ?? _options.RetryAfter));
            case DomainAuthorizationStatus.Throttled:
                // Logged by the authorizer (one warning per interval); a flood must not write a line per request.
                return (null, Throttled(result));
            default:
                AuthorizationLog.DomainUnauthorized(_logger, domain);
                return (null, ResponseWriter.Problem(
                    403,
                    ProblemTypes.DomainNotAuthorized,
                    "Domain not authorized",
                    $"The domain '{domain}' is not authorized to send events."));
        }
    }

    // 429 when the sender's address caused too many lookups, 503 when everyone together did: the collector is busy.
    private CollectorResponse Throttled(DomainAuthorization result)
    {
        var retryAfter = result.RetryAfter ?? _options.RetryAfter;
        if (result.ThrottledBy == LookupBudgetScope.ClientAddress)
        {
            var tooMany = ResponseWriter.Problem(
                429,
                ProblemTypes.LookupRateLimited,
                "Too many unknown sites",
                "This address has named too many sites the collector does not know yet in a short time; retry later.",
                retryAfter);
            tooMany.Reason = "lookup_rate_limited";
            return tooMany;
        }

        var busy = ResponseWriter.Problem(
            503,
            ProblemTypes.LookupBudgetExhausted,
            "Authorization busy",
            "The collector is looking up too many sites it does not know yet; retry later.",
            retryAfter);
        busy.Reason = "lookup_budget_exhausted";
        return busy;
    }

    private CollectorResponse Refuse(CollectorResponse response, string? reason = null)
    {
        reason ??= response.Reason ?? response.StatusCode switch
        {
            403 => "domain_not_authorized",
            503 => "authorization_unavailable",
            _ => "refused",
        };
        _metrics.RequestRefused(reason);
        IngestionLog.RequestRefused(_logger, response.StatusCode, reason);
        return response;
    }

    private CollectorResponse RefuseEvents(ParsedRequest parsed, CollectorResponse response, string? reason = null) =>
        RefuseEvents(parsed.MemberCount, response, reason);

    private CollectorResponse RefuseEvents(int memberCount, CollectorResponse response, string? reason = null)
    {
        reason ??= response.Reason ?? response.StatusCode switch
        {
            403 => "domain_not_authorized",
            503 => "authorization_unavailable",
            _ => "site_missing",
        };
        _metrics.EventsRejected(memberCount, reason);
        return Refuse(response, reason);
    }
}
