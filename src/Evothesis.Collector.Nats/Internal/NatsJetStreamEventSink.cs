using Evothesis.Collector.Batching;
using Evothesis.Collector.Batching.Internal;
using Evothesis.Collector.Events;
using Evothesis.Collector.Sinks;
using Microsoft.Extensions.Logging;
using NATS.Client.Core;
using NATS.Client.JetStream;
using NATS.Client.JetStream.Models;

namespace Evothesis.Collector.Nats.Internal;

/// <summary>
/// Publishes every event of a batch to the JetStream stream as its own message (<see cref="NatsEventMessage"/>), all
/// at once, and returns once the stream acknowledged each of them: stored on a majority of its replicas.
/// </summary>
/// <remarks>
/// <para>
/// A publish the stream acknowledges as a duplicate (the same event id within the duplicate window: a retry of this
/// batch, or a redelivery after a restart) counts as stored. A batch is written again after any failure, so the
/// events that were stored the first time are dropped by the stream the second time.
/// </para>
/// <para>
/// A refusal for good (the message is larger than the stream or the server accepts, the stream is sealed) is thrown
/// as <see cref="EventsRejectedException"/> once every other publish of the batch has been answered: the spool
/// consumer then delivers the batch's requests one by one and parks the one that holds the refused event. Everything
/// else (no server, no stream leader during an election, no responders, a full stream, a timeout) is an outage: the
/// exception is thrown as it is and the consumer retries the batch with backoff.
/// </para>
/// </remarks>
internal sealed class NatsJetStreamEventSink : IEventSink, IDeliveryPolicySource
{
    // JetStream API error codes that writing the same message again cannot fix.
    private const int MessageTooLarge = 10054;
    private const int StreamSealed = 10109;

    private readonly NatsConnectionSource _source;
    private readonly ILogger _logger;

    public NatsJetStreamEventSink(NatsConnectionSource source, ILogger<NatsJetStreamEventSink> logger)
    {
        _source = source;
        _logger = logger;
        Name = "nats:" + source.Options.StreamName;
    }

    public string Name { get; }

    /// <summary>
    /// <see cref="BatchingOptions.BatchSize"/> events, delivered after <see cref="BatchingOptions.DeliveryDelay"/> (at once
    /// in <see cref="AckMode.Committed"/> mode, where the acknowledgement waits for the stream), and
    /// <see cref="NatsJetStreamOptions.MaxInFlight"/> batches at once: every message carries its event's id, so batches
    /// read again with other boundaries are still stored once.
    /// </summary>
    public DeliveryPolicy GetDeliveryPolicy(BatchingOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var policy = DeliveryPolicy.Default(options);
        return policy with
        {
            MaxAge = options.AckMode == AckMode.Committed ? TimeSpan.Zero : policy.MaxAge,
            MaxInFlight = _source.Options.MaxInFlight,
        };
    }

    public async ValueTask WriteAsync(EventBatch batch, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(batch);
        if (batch.Count == 0)
        {
            return;
        }

        await _source.EnsureStreamAsync(cancellationToken).ConfigureAwait(false);
        var prefix = _source.Options.SubjectPrefix;
        var publishes = new Task<PubAckResponse>[batch.Count];
        for (var i = 0; i < publishes.Length; i++)
        {
            var e = batch.Events[i];
            publishes[i] = _source.JetStream.PublishAsync(
                NatsEventMessage.Subject(prefix, e.ClientId),
                NatsEventMessage.Encode(e),
                opts: new NatsJSPubOpts { MsgId = NatsEventMessage.MessageId(e) },
                cancellationToken: cancellationToken).AsTask();
        }

        // Every publish is answered (or failed) before the batch's outcome is decided, so that a retry never races
        // publishes of the previous attempt.
        try
        {
            await Task.WhenAll(publishes).ConfigureAwait(false);
        }
        catch (Exception)
        {
            // Inspected below, publish by publish.
        }

        Exception? outage = null;
        ApiError? refusal = null;
        var refused = 0;
        foreach (var publish in publishes)
        {
            if (publish.IsCompletedSuccessfully)
            {
                if (publish.Result.Error is { } error)
                {
                    if (error.ErrCode is MessageTooLarge or StreamSealed)
                    {
                        refusal ??= error;
                        refused++;
                    }
                    else
                    {
                        outage ??= new NatsJSApiException(error);
                    }
                }

                continue;
            }

            var exception = publish.Exception?.GetBaseException() ?? new OperationCanceledException(cancellationToken);
            if (exception is NatsPayloadTooLargeException)
            {
                refusal ??= new ApiError { Code = 413, ErrCode = MessageTooLarge, Description = "message larger than the server's max_payload" };
                refused++;
            }
            else
            {
                outage ??= exception;
            }
        }

        if (outage is not null)
        {
            throw outage;
        }

        if (refusal is not null)
        {
            NatsLog.PublishRefused(_logger, _source.Options.StreamName, refused, batch.Count, refusal.ErrCode, refusal.Description ?? string.Empty);
            throw new EventsRejectedException(
                $"JetStream stream {_source.Options.StreamName} refused {refused} event(s) for good (error {refusal.ErrCode}: {refusal.Description}).");
        }
    }
}
