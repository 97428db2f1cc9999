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
/// Loads the stream into one sink through a durable pull consumer of its own, shared by every loader instance: fetch
/// up to <see cref="NatsLoaderOptions.BatchSize"/> messages, write their events to the sink as one batch, acknowledge
/// the messages once the sink returned. A sink that is down only holds back its own consumer.
/// </summary>
/// <remarks>
/// <para>
/// <b>Redelivery.</b> A message is acknowledged only after the sink stored its event. A loader that dies before that
/// leaves its messages unacknowledged and the server delivers them again after <see cref="NatsLoaderOptions.AckWait"/>
/// (to any loader); while a write is retried the loader tells the server it is still working on them. A batch's id
/// comes from its first message's stream sequence and time, and the sinks store each event once (PostgreSQL by its
/// id), so a redelivered message adds nothing.
/// </para>
/// <para>
/// <b>Refusals.</b> As the collector's spool consumer does: a batch the sink refuses for good
/// (<see cref="EventsRejectedException"/>) <see cref="BatchingOptions.ParkAfterAttempts"/> times is written message by
/// message; a message refused again, or one that is not an event this loader can read, is parked: published to
/// <c>{ParkedSubjectPrefix}.{consumer}</c> (the stream <see cref="NatsLoaderOptions.ParkedStreamName"/>) with its
/// headers and the reason, and only then acknowledged. A permanent <see cref="ClientWriteException"/> parks the named
/// clients' messages and acknowledges the others. Any other failure is retried with backoff, for as long as the loader runs.
/// </para>
/// </remarks>
internal sealed class NatsSinkLoader
{
    private readonly IEventSink _sink;
    private readonly NatsConnectionSource _source;
    private readonly NatsLoaderOptions _options;
    private readonly BatchingOptions _batching;
    private readonly RetryBackoff _backoff;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly string _parkedSubject;

    public NatsSinkLoader(
        IEventSink sink,
        string consumerName,
        NatsConnectionSource source,
        NatsLoaderOptions options,
        BatchingOptions batching,
        TimeProvider time,
        ILogger logger)
    {
        _sink = sink;
        _source = source;
        _options = options;
        _batching = batching;
        _backoff = new RetryBackoff(batching.RetryBaseDelay, batching.RetryMaxDelay);
        _time = time;
        _logger = logger;
        ConsumerName = options.ConsumerPrefix + consumerName.Replace('.', '_');
        _parkedSubject = options.ParkedSubjectPrefix + "." + ConsumerName;
    }

    /// <summary>Gets the durable consumer's name.</summary>
    public string ConsumerName { get; }

    /// <summary>Gets the consumer's configuration: explicit acknowledgements, delivered from the start of the stream.</summary>
    public ConsumerConfig ConsumerConfig() => new(ConsumerName)
    {
        DurableName = ConsumerName,
        AckPolicy = ConsumerConfigAckPolicy.Explicit,
        DeliverPolicy = ConsumerConfigDeliverPolicy.All,
        AckWait = _options.AckWait,
        MaxAckPending = _options.MaxAckPending,
        FilterSubject = _source.Options.SubjectPrefix + ".>",
    };

    /// <summary>Fetches and loads until <paramref name="stopping"/> fires; unacknowledged messages are handed back then.</summary>
    public async Task RunAsync(CancellationToken stopping)
    {
        INatsJSConsumer? consumer = null;
        for (var attempt = 1; !stopping.IsCancellationRequested; attempt++)
        {
            try
            {
                if (consumer is null)
                {
                    await _source.EnsureStreamAsync(stopping).ConfigureAwait(false);
                    await EnsureParkedStreamAsync(stopping).ConfigureAwait(false);
                    consumer = await _source.JetStream.CreateOrUpdateConsumerAsync(_source.Options.StreamName, ConsumerConfig(), stopping).ConfigureAwait(false);
                    NatsLog.LoaderStarted(_logger, _sink.Name, _source.Options.StreamName, ConsumerName);
                }

                var messages = await FetchAsync(consumer, stopping).ConfigureAwait(false);

                attempt = 0;
                if (messages.Count > 0)
                {
                    await LoadAsync(messages, stopping).ConfigureAwait(false);
                }
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                var delay = _backoff.Delay(Math.Max(attempt, 1), Random.Shared.NextDouble());
                NatsLog.FetchFailed(_logger, ex, _sink.Name, delay);
                if (ex is NatsJSApiException)
                {
                    // The consumer may have been deleted or changed: look it up again.
                    consumer = null;
                }

                try
                {
                    await Task.Delay(delay, _time, stopping).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    // What is waiting, up to BatchSize, without waiting; when nothing is, the first message to arrive (within FetchWait)
    // and what is waiting after it: large batches under load, no batching delay when traffic is light.
    private async Task<List<INatsJSMsg<byte[]>>> FetchAsync(INatsJSConsumer consumer, CancellationToken stopping)
    {
        var messages = new List<INatsJSMsg<byte[]>>(_options.BatchSize);
        await FetchWaitingAsync(consumer, messages, stopping).ConfigureAwait(false);
        if (messages.Count > 0)
        {
            return messages;
        }

        var next = await consumer.NextAsync(NatsRawSerializer<byte[]>.Default, new NatsJSNextOpts { Expires = _options.FetchWait }, stopping).ConfigureAwait(false);
        if (next is { } first)
        {
            messages.Add(first);
            await FetchWaitingAsync(consumer, messages, stopping).ConfigureAwait(false);
        }

        return messages;
    }

    private async Task FetchWaitingAsync(INatsJSConsumer consumer, List<INatsJSMsg<byte[]>> messages, CancellationToken stopping)
    {
        var wanted = _options.BatchSize - messages.Count;
        if (wanted <= 0)
        {
            return;
        }

        var fetch = new NatsJSFetchOpts { MaxMsgs = wanted, Expires = _options.FetchWait };
        await foreach (var message in consumer.FetchNoWaitAsync(fetch, NatsRawSerializer<byte[]>.Default, stopping).ConfigureAwait(false))
        {
            messages.Add(message);
        }
    }

    // Writes the messages' events and acknowledges them; hands them back to the server (nak) when stopped first.
    private async Task LoadAsync(List<INatsJSMsg<byte[]>> messages, CancellationToken stopping)
    {
        var readable = new List<(INatsJSMsg<byte[]> Message, IReadOnlyList<CollectedEvent> Events)>(messages.Count);
        foreach (var message in messages)
        {
            IReadOnlyList<CollectedEvent> events;
            try
            {
                events = NatsEventMessage.Decode(message.Data ?? []);
            }
            catch (FormatException ex)
            {
                await ParkAsync([message], string.Empty, ex, stopping).ConfigureAwait(false);
                continue;
            }

            readable.Add((message, events));
        }

        if (readable.Count == 0)
        {
            return;
        }

        try
        {
            await DeliverAsync(readable, stopping).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
            // Handed back at once rather than after AckWait, so another loader takes them now.
            await NakAsync(readable.Select(r => r.Message)).ConfigureAwait(false);
            throw;
        }
    }

    private async Task DeliverAsync(List<(INatsJSMsg<byte[]> Message, IReadOnlyList<CollectedEvent> Events)> readable, CancellationToken stopping)
    {
        var batch = Batch(readable);
        var refusals = 0;
        for (var attempt = 1; ; attempt++)
        {
            Exception failure;
            try
            {
                await WriteAsync(batch, stopping).ConfigureAwait(false);
                if (attempt > 1)
                {
                    NatsLog.Recovered(_logger, _sink.Name, attempt - 1);
                }

                NatsLog.Loaded(_logger, _sink.Name, batch.Count, Sequence(readable[0].Message), Sequence(readable[^1].Message));
                await AckAsync(readable.Select(r => r.Message), stopping).ConfigureAwait(false);
                return;
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                throw;
            }
            catch (Exception ex)
            {
                failure = ex;
            }

            if (IsRefusal(failure) && ++refusals >= _batching.ParkAfterAttempts)
            {
                if (failure is ClientWriteException clients)
                {
                    await ParkClientsAsync(readable, clients, stopping).ConfigureAwait(false);
                }
                else
                {
                    await DeliverOneByOneAsync(readable, stopping).ConfigureAwait(false);
                }

                return;
            }

            await WaitToRetryAsync(failure, readable.Select(r => r.Message), batch.Count, attempt, stopping).ConfigureAwait(false);
        }
    }

    private async Task DeliverOneByOneAsync(List<(INatsJSMsg<byte[]> Message, IReadOnlyList<CollectedEvent> Events)> readable, CancellationToken stopping)
    {
        foreach (var item in readable)
        {
            var single = Batch([item]);
            for (var attempt = 1; ; attempt++)
            {
                Exception failure;
                try
                {
                    await WriteAsync(single, stopping).ConfigureAwait(false);
                    await AckAsync([item.Message], stopping).ConfigureAwait(false);
                    break;
                }
                catch (OperationCanceledException) when (stopping.IsCancellationRequested)
                {
                    throw;
                }
                catch (Exception ex)
                {
                    failure = ex;
                }

                if (failure is ClientWriteException { IsPermanent: true } clients && !item.Events.Any(e => clients.FailedClientIds.Contains(e.ClientId)))
                {
                    await AckAsync([item.Message], stopping).ConfigureAwait(false);
                    break;
                }

                if (IsRefusal(failure))
                {
                    await ParkAsync([item.Message], ClientOf(item.Events), failure, stopping).ConfigureAwait(false);
                    break;
                }

                await WaitToRetryAsync(failure, [item.Message], single.Count, attempt, stopping).ConfigureAwait(false);
            }
        }
    }

    private async Task ParkClientsAsync(
        List<(INatsJSMsg<byte[]> Message, IReadOnlyList<CollectedEvent> Events)> readable, ClientWriteException failure, CancellationToken stopping)
    {
        var stored = new List<INatsJSMsg<byte[]>>();
        foreach (var group in readable.GroupBy(r => r.Events.Any(e => failure.FailedClientIds.Contains(e.ClientId)) ? ClientOf(r.Events) : null))
        {
            if (group.Key is null)
            {
                stored.AddRange(group.Select(r => r.Message));
            }
            else
            {
                await ParkAsync(group.Select(r => r.Message).ToList(), group.Key, failure, stopping).ConfigureAwait(false);
            }
        }

        await AckAsync(stored, stopping).ConfigureAwait(false);
    }

    private async Task WriteAsync(EventBatch batch, CancellationToken stopping)
    {
        using var timeout = new CancellationTokenSource(_batching.SinkTimeout, _time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(timeout.Token, stopping);
        await _sink.WriteAsync(batch, linked.Token).ConfigureAwait(false);
    }

    // Publishes the messages to the parked stream, retrying until it acknowledged each, then acknowledges them.
    private async Task ParkAsync(List<INatsJSMsg<byte[]>> messages, string clientId, Exception reason, CancellationToken stopping)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                foreach (var message in messages)
                {
                    var headers = new NatsHeaders
                    {
                        ["Evothesis-Sink"] = _sink.Name,
                        ["Evothesis-Error-Type"] = reason.GetType().Name,
                        ["Evothesis-Error"] = reason.Message.ReplaceLineEndings(" "),
                        ["Evothesis-Subject"] = message.Subject,
                        ["Evothesis-Sequence"] = Sequence(message).ToString(System.Globalization.CultureInfo.InvariantCulture),
                    };
                    var ack = await _source.JetStream.PublishAsync(
                        _parkedSubject,
                        message.Data ?? [],
                        NatsRawSerializer<byte[]>.Default,
                        new NatsJSPubOpts { MsgId = ConsumerName + ":" + Sequence(message).ToString(System.Globalization.CultureInfo.InvariantCulture) },
                        headers,
                        stopping).ConfigureAwait(false);
                    ack.EnsureSuccess();
                }

                break;
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                throw;
            }
            catch (NatsJSDuplicateMessageException)
            {
                // Parked by an earlier attempt.
                break;
            }
            catch (Exception ex)
            {
                await WaitToRetryAsync(ex, messages, messages.Count, attempt, stopping).ConfigureAwait(false);
            }
        }

        NatsLog.Parked(_logger, _sink.Name, messages.Count, clientId, Sequence(messages[0]), _parkedSubject, reason.GetType().Name, reason.Message);
        await AckAsync(messages, stopping).ConfigureAwait(false);
    }

    private async Task EnsureParkedStreamAsync(CancellationToken stopping)
    {
        if (!_source.Options.CreateStream)
        {
            return;
        }

        var config = new StreamConfig(_options.ParkedStreamName, [_options.ParkedSubjectPrefix + ".>"])
        {
            Retention = StreamConfigRetention.Limits,
            Storage = StreamConfigStorage.File,
            NumReplicas = _source.Options.Replicas,
            DuplicateWindow = _source.Options.DuplicateWindow,
        };
        await _source.JetStream.CreateOrUpdateStreamAsync(config, stopping).ConfigureAwait(false);
    }

    private async Task WaitToRetryAsync(Exception failure, IEnumerable<INatsJSMsg<byte[]>> messages, int count, int attempt, CancellationToken stopping)
    {
        var delay = _backoff.Delay(attempt, Random.Shared.NextDouble());
        if (attempt == 1 || attempt % 10 == 0)
        {
            NatsLog.WriteFailed(_logger, failure, _sink.Name, count, attempt, delay);
        }

        // Still being worked on: the server must not hand them to another loader meanwhile.
        foreach (var message in messages)
        {
            try
            {
                await message.AckProgressAsync(cancellationToken: stopping).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // The connection is down: the server redelivers after AckWait, which is what a crash would do.
                break;
            }
        }

        await Task.Delay(delay, _time, stopping).ConfigureAwait(false);
    }

    private static async Task AckAsync(IEnumerable<INatsJSMsg<byte[]>> messages, CancellationToken stopping)
    {
        // A lost acknowledgement only means the message is delivered again, and stored once again.
        foreach (var message in messages)
        {
            await message.AckAsync(cancellationToken: stopping).ConfigureAwait(false);
        }
    }

    private static async Task NakAsync(IEnumerable<INatsJSMsg<byte[]>> messages)
    {
        using var budget = new CancellationTokenSource(TimeSpan.FromSeconds(2));
        foreach (var message in messages)
        {
            try
            {
                await message.NakAsync(cancellationToken: budget.Token).ConfigureAwait(false);
            }
            catch (Exception)
            {
                // Redelivered after AckWait instead.
                return;
            }
        }
    }

    // The batch's id and time come from its first message: read again in the same order, it names the same objects.
    private EventBatch Batch(List<(INatsJSMsg<byte[]> Message, IReadOnlyList<CollectedEvent> Events)> readable)
    {
        var first = readable[0].Message;
        var createdAt = first.Metadata?.Timestamp ?? _time.GetUtcNow();
        var events = new List<CollectedEvent>(readable.Count);
        foreach (var (_, e) in readable)
        {
            events.AddRange(e);
        }

        return new EventBatch(SpoolConsumer.BatchId((long)Sequence(first), createdAt), createdAt, events);
    }

    private static ulong Sequence(INatsJSMsg<byte[]> message) => message.Metadata?.Sequence.Stream ?? 0;

    private static string ClientOf(IReadOnlyList<CollectedEvent> events) => events.Count > 0 ? events[0].ClientId : string.Empty;

    private static bool IsRefusal(Exception failure) =>
        failure is EventsRejectedException or ClientWriteException { IsPermanent: true };
}
