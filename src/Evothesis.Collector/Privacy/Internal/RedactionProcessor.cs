using Evothesis.Collector.Authorization;
using Evothesis.Collector.Events;
using Microsoft.Extensions.Options;

namespace Evothesis.Collector.Privacy.Internal;

/// <summary>
/// Redacts personal data from every event's <c>page_data</c>, <c>event_data</c>, custom fields and
/// <c>consent</c>; in form events (any event type with the word <c>form</c>: <c>form_submit</c>,
/// <c>formChange</c>, ...) values are replaced and field names kept. The event's own strings
/// (<c>eventType</c>, <c>sessionId</c>, <c>eventId</c>) get the text rules.
/// </summary>
internal sealed class RedactionProcessor : IEventProcessor
{
    private readonly JsonRedactor _redactor;
    private readonly PrivacyOptions _options;
    private readonly KeyNameMatcher _formEvents;

    public RedactionProcessor(JsonRedactor redactor, IOptions<CollectorOptions> options)
    {
        _redactor = redactor;
        _options = options.Value.Privacy;
        _formEvents = new KeyNameMatcher(["form", .. _options.FormEventTypes]);
    }

    public void Process(EventProcessingContext context)
    {
        if (context.Client.PrivacyLevel == PrivacyLevel.Standard && !_options.RedactStandardClients)
        {
            return;
        }

        var recorder = context.Redactions;
        foreach (var e in context.Events)
        {
            // The type as sent says whether the form rule applies; redacting it first could only hide that.
            var form = IsFormEvent(e.EventType);
            RedactIdentifiers(e, recorder);
            e.PageData = _redactor.Redact(e.PageData, "page_data", formValues: false, recorder);
            e.EventData = _redactor.Redact(e.EventData, "event_data", form, recorder);
            e.CustomData = _redactor.Redact(e.CustomData, "custom_data", form, recorder);
            e.Consent = _redactor.Redact(e.Consent, "consent", formValues: false, recorder);
        }
    }

    /// <summary>Tells whether an event type is a form event.</summary>
    public bool IsFormEvent(string eventType) => _formEvents.Matches(eventType.AsSpan());

    private void RedactIdentifiers(CollectedEvent e, RedactionRecorder recorder)
    {
        if (_redactor.TryRedactText(e.EventType, "eventType", recorder, out var type))
        {
            e.EventType = type;
        }

        // A UUID in its canonical form is an identifier: its digit runs can look like a phone number or a national id
        // (a few random UUIDs in 100 000 do), and redacting it would split a session or lose an event's deduplication.
        if (e.SessionId is { } session && !IsUuid(session) && _redactor.TryRedactText(session, "sessionId", recorder, out var redactedSession))
        {
            e.SessionId = redactedSession;
        }

        // An eventId is a retry key: sinks keep one event per client and eventId (PostgreSQL's unique index).
        // With a marker in it, different events would share a key ("[redacted:card]") and all but one would be
        // discarded as retries, so an eventId holding personal data is removed, not marked.
        if (e.EventId is { } id && !IsUuid(id) && _redactor.TryRedactText(id, "eventId", recorder, out _))
        {
            e.EventId = null;
        }
    }

    private static bool IsUuid(string value) => value.Length == 36 && Guid.TryParseExact(value, "D", out _);
}
