using Evothesis.Collector.Batching.Internal;
using Evothesis.Collector.Events;
using Evothesis.Collector.Sinks;
using Evothesis.Collector.Sinks.ObjectStorage.Internal;
using Evothesis.Collector.Spool.Internal;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Evothesis.Collector.Batching;

/// <summary>
/// Delivers the records a sink refused for good, parked beside the spool (<c>{spool}/parked/{sink consumer}/</c>),
/// again to the sink they were parked for, once the cause is fixed: what <c>evothesis-replay --source parked</c> runs.
/// </summary>
/// <remarks>
/// Each parked file becomes one batch with the id a normal delivery gave it (from the spool position and append time of
/// the batch it was refused in), and its events keep their ids, so a replay is idempotent: a row is not inserted
/// twice and an object is written under the same key. A file is deleted (and its folder fsynced) only once the sink
/// took all of it; a file the sink refuses again stays, and the replay goes on with the next one.
/// </remarks>
internal static class ParkedEventReplay
{
    /// <summary>
    /// Replays every parked file of the collector configured in <paramref name="services"/> (the spool folder and the
    /// sinks, built as the collector builds them), or only into <paramref name="target"/> when it is given.
    /// </summary>
    /// <param name="services">A service provider with the collector registered (<c>AddEvothesisCollector</c> and its sinks); the spool itself is not opened.</param>
    /// <param name="target">A sink that takes every parked file, whichever sink it was parked for (a sink renamed since); <see langword="null"/> for each file's own sink.</param>
    /// <param name="dryRun">Reads, verifies and counts only; writes and deletes nothing.</param>
    /// <param name="logger">Logs each file; none by default.</param>
    /// <param name="cancellationToken">Stops after the current file.</param>
    /// <returns>What was replayed, and what was not.</returns>
    public static async Task<ParkedReplayResult> ReplayAsync(
        IServiceProvider services,
        IEventSink? target = null,
        bool dryRun = false,
        ILogger? logger = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(services);
        logger ??= NullLogger.Instance;
        var options = services.GetRequiredService<IOptions<CollectorOptions>>().Value;
        var spoolPath = options.Spool.ResolvePath(services.GetRequiredService<CollectorPaths>(), options.Storage);
        var sinks = services.GetRequiredService<SinkSet>().Sinks;
        var names = EventBatcher.ConsumerNames(sinks);
        var root = Path.Combine(spoolPath, ParkedRecords.FolderName);
        var result = new ParkedReplayResult(root);
        if (!Directory.Exists(root))
        {
            return result;
        }

        foreach (var folder in Directory.GetDirectories(root).Order(StringComparer.Ordinal))
        {
            var consumer = Path.GetFileName(folder);
            var files = ParkedRecords.List(folder);
            if (files.Count == 0)
            {
                continue;
            }

            var index = Array.IndexOf(names, consumer);
            var sink = target ?? (index >= 0 ? sinks[index] : null);
            if (sink is null)
            {
                result.Failures.Add(
                    $"{folder}: parked for a sink this configuration does not have ({consumer}; it has {string.Join(", ", names)}). " +
                    "Configure that sink, or name a target.");
                continue;
            }

            foreach (var path in files)
            {
                cancellationToken.ThrowIfCancellationRequested();
                ParkedRecordSet parked;
                try
                {
                    parked = ParkedRecordFile.Read(path);
                }
                catch (Exception exception) when (exception is InvalidDataException or IOException)
                {
                    result.Failures.Add($"{path}: {exception.Message}");
                    continue;
                }

                var events = new List<CollectedEvent>(parked.Info.Events);
                foreach (var record in parked.Records)
                {
                    events.AddRange(SpoolEventCodec.Decode(record.Payload).Events);
                }

                var batch = new EventBatch(
                    SpoolConsumer.BatchId(parked.Info.BatchPosition, parked.Info.BatchAppendedAt), parked.Info.BatchAppendedAt, events);
                if (!dryRun)
                {
                    try
                    {
                        await sink.WriteAsync(batch, cancellationToken).ConfigureAwait(false);
                    }
                    catch (Exception exception) when (exception is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
                    {
                        // Refused again, or partly written: the file stays, and is replayed whole next time.
                        BatchingLog.ParkedReplayFailed(logger, exception, path, sink.Name);
                        result.Failures.Add($"{path}: {sink.Name} did not take it: {exception.GetType().Name}: {exception.Message}");
                        continue;
                    }

                    File.Delete(path);
                    DirectorySync.Flush(folder);
                    BatchingLog.ParkedReplayed(logger, parked.Records.Count, events.Count, sink.Name, path);
                }

                result.Files++;
                result.Records += parked.Records.Count;
                result.Events += events.Count;
            }
        }

        return result;
    }
}

/// <summary>What <see cref="ParkedEventReplay.ReplayAsync"/> did.</summary>
/// <param name="Folder">The folder of parked records it read.</param>
internal sealed record ParkedReplayResult(string Folder)
{
    /// <summary>Gets or sets the parked files delivered (and deleted), or that would be in a dry run.</summary>
    public int Files { get; set; }

    /// <summary>Gets or sets the requests those files held.</summary>
    public long Records { get; set; }

    /// <summary>Gets or sets the events those files held.</summary>
    public long Events { get; set; }

    /// <summary>Gets the files not delivered, each with why; they are kept.</summary>
    public IList<string> Failures { get; } = [];
}
