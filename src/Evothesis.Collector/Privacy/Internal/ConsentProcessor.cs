using Evothesis.Collector.Authorization;
using Microsoft.Extensions.Logging;

namespace Evothesis.Collector.Privacy.Internal;

/// <summary>
/// Drops events the visitor did not consent to. An explicit denial always drops the event, and so does
/// <c>Sec-GPC: 1</c> for <c>gdpr</c> and <c>hipaa</c> clients, whatever the event says (the more private signal
/// wins). When the client requires consent, an event without a grant follows the client's default behaviour:
/// <c>opt_out</c> drops it, <c>opt_in</c> keeps it.
/// </summary>
internal sealed class ConsentProcessor(PrivacyMetrics metrics, ILogger<ConsentProcessor> logger) : IEventProcessor
{
    /// <summary>The rejection reason in responses and metrics.</summary>
    public const string Reason = "consent";

    public void Process(EventProcessingContext context)
    {
        var client = context.Client;
        var globalPrivacyControl = context.Request.GlobalPrivacyControl && client.PrivacyLevel is PrivacyLevel.Gdpr or PrivacyLevel.Hipaa;
        var dropUndecided = client.Consent.Required && client.Consent.DefaultBehavior == ConsentDefault.OptOut;
        var events = context.Events;
        int denied = 0, undecided = 0, gpc = 0;

        // Backwards, because dropping removes the event from the list.
        for (var i = events.Count - 1; i >= 0; i--)
        {
            var e = events[i];
            if (globalPrivacyControl)
            {
                context.Drop(e, Reason);
                gpc++;
                continue;
            }

            var decision = ConsentReader.Read(e.Consent);
            if (decision == ConsentDecision.Denied)
            {
                context.Drop(e, Reason);
                denied++;
            }
            else if (decision == ConsentDecision.None && dropUndecided)
            {
                context.Drop(e, Reason);
                undecided++;
            }
        }

        Report(client.ClientId, denied, "denied");
        Report(client.ClientId, gpc, "gpc");
        Report(client.ClientId, undecided, "no_grant");
    }

    private void Report(string clientId, int count, string cause)
    {
        if (count > 0)
        {
            metrics.ConsentDropped(count, cause);
            PrivacyLog.ConsentDropped(logger, count, clientId, cause);
        }
    }
}
