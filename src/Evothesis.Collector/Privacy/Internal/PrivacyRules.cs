using Evothesis.Collector.Audit;
using Evothesis.Collector.Authorization;
using Evothesis.Collector.Events;
using Evothesis.Collector.Ingestion;
using Microsoft.Extensions.Logging;

namespace Evothesis.Collector.Privacy.Internal;

/// <summary>
/// The collector's own rules for a request's events, run before any host processor: consent, then redaction;
/// afterwards, for <c>hipaa</c> clients, the request's audit record.
/// </summary>
internal sealed class PrivacyRules(
    ConsentProcessor consent,
    RedactionProcessor redaction,
    JsonRedactor redactor,
    PrivacyMetrics metrics,
    ILogger<PrivacyRules> logger)
{
    /// <summary>Gets the built-in processors in the order they run.</summary>
    public IReadOnlyList<IEventProcessor> Processors { get; } = [consent, redaction];

    /// <summary>Creates the context the processors share, collecting redaction locations when the request is audited.</summary>
    public static EventProcessingContext CreateContext(ClientConfig client, string domain, CollectorRequest request, List<CollectedEvent> events) =>
        new(client, domain, request, events, new RedactionRecorder(collectLocations: IsAudited(client)));

    public static bool IsAudited(ClientConfig client) => client.PrivacyLevel == PrivacyLevel.Hipaa;

    /// <summary>Reports what redaction did once every processor ran.</summary>
    public void Completed(EventProcessingContext context)
    {
        var recorder = context.Redactions;
        if (recorder.Total == 0)
        {
            return;
        }

        metrics.Redacted(recorder);
        if (logger.IsEnabled(LogLevel.Debug))
        {
            var rules = new List<string>();
            for (var kind = 0; kind < PiiKinds.Count; kind++)
            {
                if (recorder.Count((PiiKind)kind) > 0)
                {
                    rules.Add(PiiKinds.Name((PiiKind)kind));
                }
            }

            PrivacyLog.Redacted(logger, recorder.Total, context.Client.ClientId, string.Join(", ", rules));
        }
    }

    /// <summary>Creates the audit record of an audited request whose events are about to be queued.</summary>
    /// <param name="context">The request's context, after every processor ran.</param>
    /// <param name="receivedAt">When the request was received.</param>
    /// <param name="ip">The visitor IP as the client's rules allow it to be stored (for hipaa, its keyed hash).</param>
    /// <remarks>
    /// The event types are the redacted ones, and go through the text rules once more here: a host processor
    /// runs after the redaction and may set a type, and a record holds no value the rules would redact.
    /// </remarks>
    public AuditRecord? CreateAuditRecord(EventProcessingContext context, DateTimeOffset receivedAt, string? ip)
    {
        var events = context.Events;
        if (!IsAudited(context.Client) || events.Count == 0)
        {
            return null;
        }

        var sent = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var e in events)
        {
            sent[e.EventType] = sent.GetValueOrDefault(e.EventType) + 1;
        }

        // A request has few distinct types, so each is checked once; types that redact alike are counted together.
        var types = new Dictionary<string, int>(sent.Count, StringComparer.Ordinal);
        foreach (var (type, count) in sent)
        {
            var key = redactor.TryRedactText(type, "eventType", recorder: null, out var redacted) ? redacted : type;
            types[key] = types.GetValueOrDefault(key) + count;
        }

        return new AuditRecord
        {
            Id = Guid.CreateVersion7(receivedAt),
            Time = receivedAt,
            ClientId = context.Client.ClientId,
            SiteId = context.Domain,
            RequestId = context.Request.RequestId,
            EventCount = events.Count,
            EventTypes = types,
            IpHash = ip,
            Redactions = context.Redactions.Locations.ToArray(),
        };
    }
}
