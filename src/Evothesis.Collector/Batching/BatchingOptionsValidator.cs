using Evothesis.Collector.Ingestion;
using Evothesis.Collector.Spool.Internal;
using Microsoft.Extensions.Options;

namespace Evothesis.Collector.Batching;

/// <summary>Checks <c>Evothesis:Batching</c> and <c>Evothesis:Spool</c>; messages name the bad values.</summary>
internal sealed class BatchingOptionsValidator : IValidateOptions<CollectorOptions>
{
    public ValidateOptionsResult Validate(string? name, CollectorOptions options)
    {
        var failures = new List<string>();
        var batching = options.Batching;
        OptionsChecks.Range(failures, "Evothesis:Batching:AckTimeout", batching.AckTimeout, TimeSpan.FromMilliseconds(100), TimeSpan.FromMinutes(10));
        OptionsChecks.Range(failures, "Evothesis:Batching:SinkTimeout", batching.SinkTimeout, TimeSpan.FromMilliseconds(100), TimeSpan.FromHours(1));
        OptionsChecks.Range(failures, "Evothesis:Batching:DeliveryDelay", batching.DeliveryDelay, TimeSpan.Zero, TimeSpan.FromMinutes(5));
        OptionsChecks.Range(failures, "Evothesis:Batching:RetryBaseDelay", batching.RetryBaseDelay, TimeSpan.FromMilliseconds(1), TimeSpan.FromMinutes(1));
        OptionsChecks.Range(failures, "Evothesis:Batching:RetryMaxDelay", batching.RetryMaxDelay, batching.RetryBaseDelay, TimeSpan.FromHours(1));

        // The largest request a body can make: its payloads once inherited fields are copied, and the fixed fields.
        var largestRecord = ((long)options.Limits.MaxPayloadExpansion * options.Limits.MaxBodyBytes) + RequestLimitsOptions.PayloadExpansionAllowance
            + ((long)options.Limits.MaxEventsPerBatch * 2048);
        if (options.Spool.SegmentBytes < largestRecord)
        {
            failures.Add(
                $"Evothesis:Spool:SegmentBytes ({options.Spool.SegmentBytes}) must be at least {largestRecord} bytes: the largest request " +
                $"Evothesis:Limits allow (MaxBodyBytes {options.Limits.MaxBodyBytes} times MaxPayloadExpansion {options.Limits.MaxPayloadExpansion}, " +
                $"plus MaxEventsPerBatch {options.Limits.MaxEventsPerBatch} events) must fit in one segment.");
        }

        SpoolOptionsValidator.AddFailures(failures, options.Spool, "Evothesis:Spool");
        return OptionsChecks.Result(failures);
    }
}
