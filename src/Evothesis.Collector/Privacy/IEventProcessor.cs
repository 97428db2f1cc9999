namespace Evothesis.Collector.Privacy;

/// <summary>
/// A step run on the events of every accepted request after attribution and before they are queued:
/// consent, redaction, enrichment. Processors run in registration order; the collector's own run first.
/// </summary>
/// <remarks>
/// A processor may rewrite an event's payloads, IP and user agent, and may drop events with a reason. Dropped
/// events are answered in the response's <c>rejected</c> list (with a 2xx status, so senders do not retry a
/// policy decision) and counted. Processors must not log payload values.
/// </remarks>
public interface IEventProcessor
{
    /// <summary>Processes the events of one request.</summary>
    /// <param name="context">The request's client, request and events.</param>
    void Process(EventProcessingContext context);
}
