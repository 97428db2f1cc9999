using Evothesis.Collector.Authorization;
using Microsoft.Extensions.Options;

namespace Evothesis.Collector.Privacy.Internal;

/// <summary>
/// Redacts personal data from every event's <c>page_data</c>, <c>event_data</c>, custom fields and
/// <c>consent</c>; in form events (any event type with the word <c>form</c>: <c>form_submit</c>,
/// <c>formChange</c>, ...) values are replaced and field names kept.
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
            var form = IsFormEvent(e.EventType);
            e.PageData = _redactor.Redact(e.PageData, "page_data", formValues: false, recorder);
            e.EventData = _redactor.Redact(e.EventData, "event_data", form, recorder);
            e.CustomData = _redactor.Redact(e.CustomData, "custom_data", form, recorder);
            e.Consent = _redactor.Redact(e.Consent, "consent", formValues: false, recorder);
        }
    }

    /// <summary>Tells whether an event type is a form event.</summary>
    public bool IsFormEvent(string eventType) => _formEvents.Matches(eventType.AsSpan());
}
