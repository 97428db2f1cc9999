using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using NATS.Client.Core;
using NATS.Client.JetStream;
using NATS.Client.JetStream.Models;

namespace Evothesis.Collector.Nats.Internal;

/// <summary>
/// The one NATS connection of a process (it reconnects by itself, to any server of <see cref="NatsJetStreamOptions.Url"/>)
/// and its JetStream context, and the stream's creation: done once, before the first publish or fetch, and tried
/// again with the next one when it failed.
/// </summary>
internal sealed class NatsConnectionSource : IAsyncDisposable
{
    private readonly NatsJetStreamOptions _options;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _streamGate = new(1, 1);
    private volatile bool _streamReady;

    public NatsConnectionSource(IOptions<NatsJetStreamOptions> options, ILoggerFactory loggerFactory)
    {
        _options = options.Value;
        _logger = loggerFactory.CreateLogger<NatsConnectionSource>();
        Connection = new NatsConnection(new NatsOpts
        {
            Url = _options.Url,
            Name = "evothesis-collector",
            RequestTimeout = _options.RequestTimeout,
            CommandTimeout = _options.RequestTimeout,
            LoggerFactory = loggerFactory,

            // Unbounded reconnects: the servers come back, and meanwhile the spool (or the stream) holds the events.
            MaxReconnectRetry = -1,
            ReconnectWaitMin = TimeSpan.FromMilliseconds(100),
            ReconnectWaitMax = TimeSpan.FromSeconds(2),
        });
        JetStream = new NatsJSContext(Connection);
    }

    public NatsJetStreamOptions Options => _options;

    public NatsConnection Connection { get; }

    public NatsJSContext JetStream { get; }

    /// <summary>Creates the stream, or updates its configuration, once (when <see cref="NatsJetStreamOptions.CreateStream"/> is set).</summary>
    public async ValueTask EnsureStreamAsync(CancellationToken cancellationToken)
    {
        if (_streamReady || !_options.CreateStream)
        {
            return;
        }

        await _streamGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_streamReady)
            {
                return;
            }

            try
            {
                await JetStream.CreateOrUpdateStreamAsync(StreamConfig(), cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                NatsLog.StreamFailed(_logger, ex, _options.StreamName);
                throw;
            }

            NatsLog.StreamReady(_logger, _options.StreamName, _options.SubjectPrefix + ".>", _options.Replicas);
            _streamReady = true;
        }
        finally
        {
            _streamGate.Release();
        }
    }

    /// <summary>The stream's configuration from the options: limits retention, file storage, new messages refused when full.</summary>
    public StreamConfig StreamConfig() => new(_options.StreamName, [_options.SubjectPrefix + ".>"])
    {
        Retention = StreamConfigRetention.Limits,
        Storage = StreamConfigStorage.File,
        NumReplicas = _options.Replicas,
        MaxAge = _options.MaxAge,
        MaxBytes = _options.MaxBytes,
        MaxMsgSize = _options.MaxMessageBytes,
        DuplicateWindow = _options.DuplicateWindow,
        Discard = StreamConfigDiscard.New,
    };

    public async ValueTask DisposeAsync()
    {
        await Connection.DisposeAsync().ConfigureAwait(false);
        _streamGate.Dispose();
    }
}
