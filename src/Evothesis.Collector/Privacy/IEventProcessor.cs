namespace Evothesis.Collector.Privacy;

/// <summary>
/// A step run on the events of every accepted request after attribution and before they are queued:
/// consent, redaction, enrichment.
/// </summary>
/// <remarks>
/// <para>
/// Order: the IP is applied when events are created (a processor never sees an address the client's rules
/// forbid); then the collector's own processors run, consent first (dropping what may not be kept), then
/// redaction; then the host's processors (<c>AddEventProcessor&lt;T&gt;()</c>) in registration order. Host
/// processors therefore only ever see redacted events; whatever they add is stored as they add it.
/// </para>
/// <para>
/// A processor may rewrite an event's payloads, IP and user agent, and may drop events with a reason. Dropped
/// events are answered in the response's <c>rejected</c> list (with a 2xx status, so senders do not retry a
/// policy decision) and counted. Processors must not log payload values.
/// </para>
/// </remarks>
public interface IEventProcessor
{
    /// <summary>Processes the events of one request.</summary>
    /// <param name="context">The request's client, request and events.</param>
    void Process(EventProcessingContext context);
}
