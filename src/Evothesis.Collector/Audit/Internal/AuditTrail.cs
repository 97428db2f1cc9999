using Evothesis.Collector.Sinks.ObjectStorage;
using Evothesis.Collector.Sinks.ObjectStorage.Internal;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Evothesis.Collector.Audit.Internal;

/// <summary>
/// Writes the audit records of a batch to every audit sink: those the host registered, or, when it registered
/// none, the default: NDJSON objects under <c>audit/</c> beside the event files, in the client bucket (after its
/// key prefix) when one is configured, else in the local storage folder. The batcher writes a batch's records before its
/// events and refuses the audited requests when this fails, so a stored hipaa event always has its record.
/// </summary>
internal sealed class AuditTrail
{
    private readonly IAuditSink[] _sinks;
    private readonly AuditMetrics _metrics;
    private readonly ILogger _logger;

    // Written by the flusher, read by health checks.
    private volatile bool _lastWriteFailed;

    public AuditTrail(
        IEnumerable<IAuditSink> registered,
        CollectorObjectStores stores,
        AuditMetrics metrics,
        ILogger<AuditTrail> logger)
        : this(
            registered,
            () => stores.ClientBucket is { } bucket
                ? new ObjectStorageAuditSink(bucket, ObjectKeyLayout.NormalizePrefix(stores.ClientPrefix) + ObjectStorageAuditSink.DefaultPrefix)
                : new ObjectStorageAuditSink(stores.LocalFolder),
            metrics,
            logger)
    {
    }

    /// <summary>With the local folder of the options as the default store; for tests.</summary>
    internal AuditTrail(
        IEnumerable<IAuditSink> registered,
        IOptions<CollectorOptions> options,
        CollectorPaths paths,
        AuditMetrics metrics,
        ILogger<AuditTrail> logger)
        : this(registered, () => new ObjectStorageAuditSink(new LocalFolderObjectStore(paths.Resolve(options.Value.Storage.Path))), metrics, logger)
    {
    }

    /// <summary>With a default sink of the caller's choice, used only when no audit sink is registered.</summary>
    internal AuditTrail(IEnumerable<IAuditSink> registered, Func<IAuditSink> defaultSink, AuditMetrics metrics, ILogger<AuditTrail> logger)
    {
        var sinks = registered.ToArray();
        _sinks = sinks.Length > 0 ? sinks : [defaultSink()];
        _metrics = metrics;
        _logger = logger;
    }

    public IReadOnlyList<IAuditSink> Sinks => _sinks;

    /// <summary>Gets a value indicating whether the most recent audit write failed (audited requests are being refused).</summary>
    public bool LastWriteFailed => _lastWriteFailed;

    /// <summary>Writes records to every sink; throws when any sink failed.</summary>
    public async Task WriteAsync(IReadOnlyList<AuditRecord> records, CancellationToken cancellationToken)
    {
        try
        {
            if (_sinks.Length == 1)
            {
                await WriteAsync(_sinks[0], records, cancellationToken).ConfigureAwait(false);
            }
            else
            {
                var writes = new Task[_sinks.Length];
                for (var i = 0; i < _sinks.Length; i++)
                {
                    writes[i] = WriteAsync(_sinks[i], records, cancellationToken);
                }

                await Task.WhenAll(writes).ConfigureAwait(false);
            }
        }
        catch
        {
            _lastWriteFailed = true;
            _metrics.AuditRecords(records.Count, success: false);
            throw;
        }

        _lastWriteFailed = false;
        _metrics.AuditRecords(records.Count, success: true);
    }

    private async Task WriteAsync(IAuditSink sink, IReadOnlyList<AuditRecord> records, CancellationToken cancellationToken)
    {
        try
        {
            await sink.WriteAsync(records, cancellationToken).ConfigureAwait(false);
            AuditLog.AuditWritten(_logger, records.Count, sink.Name);
        }
        catch (Exception ex)
        {
            _metrics.AuditFailed(sink.Name);
            AuditLog.AuditWriteFailed(_logger, ex, sink.Name, records.Count);
            throw;
        }
    }
}
