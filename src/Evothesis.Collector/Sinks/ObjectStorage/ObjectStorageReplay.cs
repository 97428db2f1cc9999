using System.Globalization;
using Evothesis.Collector.Events;
using Evothesis.Collector.Sinks.ObjectStorage.Internal;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Evothesis.Collector.Sinks.ObjectStorage;

/// <summary>
/// Reads the objects the object-storage sink wrote (typically in the backup bucket) and writes their events
/// into another sink, such as PostgreSQL: the way to rebuild a lost database.
/// </summary>
/// <remarks>
/// <para>
/// Each object becomes one <see cref="EventBatch"/> with the batch id and time its key names, and its events
/// keep their ids, so a replay is idempotent wherever the target sink is: a database that deduplicates on the
/// event, or an object store (same keys, objects replaced). Replaying twice, or resuming after a failure by
/// replaying the same range again, stores nothing twice.
/// </para>
/// <para>
/// Objects are written client by client in key order (chronological within a client), one batch at a time, so
/// the target sink is never written concurrently; the next few objects are downloaded meanwhile
/// (<see cref="ObjectReplayOptions.MaxConcurrentReads"/>).
/// </para>
/// </remarks>
internal static class ObjectStorageReplay
{
    // Beyond this many days a range is listed client by client rather than day by day.
    private const int MaxDayPrefixes = 62;

    /// <summary>Replays objects from <paramref name="source"/> into <paramref name="target"/>.</summary>
    /// <param name="source">The store the objects were written to.</param>
    /// <param name="target">The sink to write the events to.</param>
    /// <param name="options">Which objects to replay.</param>
    /// <param name="logger">Logs progress and skipped objects; none by default.</param>
    /// <param name="cancellationToken">Stops the replay after the current object.</param>
    /// <returns>What was replayed.</returns>
    /// <exception cref="InvalidDataException">
    /// An object is not valid gzip NDJSON of stored events and <see cref="ObjectReplayOptions.SkipInvalidObjects"/> is off;
    /// the message names its key.
    /// </exception>
    /// <exception cref="ObjectStoreException">The source cannot be listed or read.</exception>
    public static async Task<ObjectReplayResult> ReplayAsync(
        IObjectStore source,
        IEventSink target,
        ObjectReplayOptions options,
        ILogger? logger = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.MaxConcurrentReads, 1, nameof(options));
        if (options.From is { } from && options.To is { } to && to <= from)
        {
            throw new ArgumentException($"The replay range ends ({to:O}) before it starts ({from:O}).", nameof(options));
        }

        logger ??= NullLogger.Instance;
        var prefix = ObjectKeyLayout.NormalizePrefix(options.Prefix);
        ObjectStorageLog.ReplayStarted(
            logger,
            source.Name,
            prefix.Length == 0 ? string.Empty : "/" + prefix,
            target.Name,
            options.ClientIds.Count == 0 ? "all" : string.Join(", ", options.ClientIds),
            options.From?.ToString("O", CultureInfo.InvariantCulture) ?? "the start",
            options.To?.ToString("O", CultureInfo.InvariantCulture) ?? "the end");

        var result = new ObjectReplayResult();

        // Objects are downloaded and decoded a few ahead, and written one at a time in key order.
        var reads = new Queue<ObjectRead>();
        using var readCancellation = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        try
        {
            await foreach (var clientPrefix in GetClientPrefixesAsync(source, prefix, options, cancellationToken).ConfigureAwait(false))
            {
                foreach (var listPrefix in GetListPrefixes(clientPrefix, options))
                {
                    await foreach (var entry in source.ListAsync(listPrefix, cancellationToken).ConfigureAwait(false))
                    {
                        cancellationToken.ThrowIfCancellationRequested();
                        if (!ObjectKeyLayout.TryParse(prefix, entry.Key, out var info))
                        {
                            result.ForeignObjects++;
                            ObjectStorageLog.ForeignObjectSkipped(logger, entry.Key);
                            continue;
                        }

                        if (options.From is { } start && info.BatchCreatedAt < TruncateToSecond(start)
                            || options.To is { } end && info.BatchCreatedAt >= end)
                        {
                            continue;
                        }

                        reads.Enqueue(new ObjectRead(entry.Key, info, ReadAsync(source, entry.Key, readCancellation.Token)));
                        if (reads.Count >= options.MaxConcurrentReads)
                        {
                            await WriteAsync(reads.Dequeue(), source, target, options, result, logger, cancellationToken).ConfigureAwait(false);
                        }
                    }
                }
            }

            while (reads.Count > 0)
            {
                await WriteAsync(reads.Dequeue(), source, target, options, result, logger, cancellationToken).ConfigureAwait(false);
            }
        }
        finally
        {
            if (reads.Count > 0)
            {
                // Stopped early: the reads ahead are not needed any more.
                await readCancellation.CancelAsync().ConfigureAwait(false);
                foreach (var read in reads)
                {
                    await ((Task)read.Events).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
                }
            }
        }

        ObjectStorageLog.ReplayFinished(logger, result.Objects, result.Events, result.ForeignObjects, result.InvalidObjects.Count);
        return result;
    }

    private static async Task WriteAsync(
        ObjectRead read,
        IObjectStore source,
        IEventSink target,
        ObjectReplayOptions options,
        ObjectReplayResult result,
        ILogger logger,
        CancellationToken cancellationToken)
    {
        List<CollectedEvent> events;
        try
        {
            events = await read.Events.ConfigureAwait(false);
        }
        catch (InvalidDataException ex) when (options.SkipInvalidObjects)
        {
            result.AddInvalid(read.Key);
            ObjectStorageLog.InvalidObjectSkipped(logger, ex, read.Key);
            return;
        }
        catch (InvalidDataException ex)
        {
            throw new InvalidDataException(
                $"'{read.Key}' in {source.Name} is not valid gzip NDJSON of stored events ({ex.Message}). Nothing of it was written; " +
                "the objects before it were. Fix or remove the object, or replay with invalid objects skipped.",
                ex);
        }

        if (events.Count > 0 && !options.DryRun)
        {
            await target.WriteAsync(new EventBatch(read.Info.BatchId, read.Info.BatchCreatedAt, events), cancellationToken).ConfigureAwait(false);
        }

        result.Objects++;
        result.Events += events.Count;
        ObjectStorageLog.ObjectReplayed(logger, read.Key, events.Count);
    }

    private static async Task<List<CollectedEvent>> ReadAsync(IObjectStore source, string key, CancellationToken cancellationToken)
    {
        var stored = await source.GetAsync(key, cancellationToken).ConfigureAwait(false);
        await using (stored.ConfigureAwait(false))
        {
            var events = new List<CollectedEvent>();
            await foreach (var e in ObjectStorageEventSink.DecodeAsync(stored.Content, cancellationToken).ConfigureAwait(false))
            {
                events.Add(e);
            }

            return events;
        }
    }

    private static async IAsyncEnumerable<string> GetClientPrefixesAsync(
        IObjectStore source,
        string prefix,
        ObjectReplayOptions options,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        if (options.ClientIds.Count > 0)
        {
            foreach (var clientId in options.ClientIds.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal))
            {
                yield return ObjectKeyLayout.GetClientPrefix(prefix, clientId);
            }

            yield break;
        }

        await foreach (var p in source.ListPrefixesAsync(prefix + "client_id=", cancellationToken).ConfigureAwait(false))
        {
            yield return p;
        }
    }

    private static List<string> GetListPrefixes(string clientPrefix, ObjectReplayOptions options)
    {
        if (options.From is not { } from || options.To is not { } to)
        {
            return [clientPrefix];
        }

        var first = DateOnly.FromDateTime(from.UtcDateTime);
        var last = DateOnly.FromDateTime(to.UtcDateTime.AddTicks(-1));
        if (last.DayNumber - first.DayNumber >= MaxDayPrefixes)
        {
            return [clientPrefix];
        }

        var prefixes = new List<string>();
        for (var day = first; day <= last; day = day.AddDays(1))
        {
            prefixes.Add(ObjectKeyLayout.GetDatePrefix(clientPrefix, day));
        }

        return prefixes;
    }

    // Keys name the batch time to the second: a range starting mid-second still includes that second's objects.
    private static DateTimeOffset TruncateToSecond(DateTimeOffset value)
    {
        var utc = value.ToUniversalTime();
        return new DateTimeOffset(utc.Ticks - (utc.Ticks % TimeSpan.TicksPerSecond), TimeSpan.Zero);
    }
}

/// <summary>Which objects <see cref="ObjectStorageReplay"/> replays.</summary>
internal sealed class ObjectReplayOptions
{
    /// <summary>
    /// Gets or sets the key prefix the objects were written under (<c>Evothesis:S3:BackupPrefix</c> for the
    /// backup bucket). The default is none.
    /// </summary>
    public string? Prefix { get; set; }

    /// <summary>Gets the clients to replay; all clients when empty (the default).</summary>
    public IList<string> ClientIds { get; } = [];

    /// <summary>
    /// Gets or sets the start of the range, inclusive, compared with the batch time in each key (when the batch's
    /// first event was spooled, at most the object's age limit before the events' <c>received_at</c> in steady traffic). The default is none: from the first object.
    /// </summary>
    public DateTimeOffset? From { get; set; }

    /// <summary>Gets or sets the end of the range, exclusive. The default is none: to the last object.</summary>
    public DateTimeOffset? To { get; set; }

    /// <summary>
    /// Gets or sets a value indicating whether an object that is not valid gzip NDJSON is skipped (and listed in
    /// <see cref="ObjectReplayResult.InvalidObjects"/>) instead of stopping the replay. The default is <see langword="false"/>.
    /// </summary>
    public bool SkipInvalidObjects { get; set; }

    /// <summary>
    /// Gets or sets a value indicating whether objects are only read and counted, not written. The default is
    /// <see langword="false"/>.
    /// </summary>
    public bool DryRun { get; set; }

    /// <summary>
    /// Gets or sets how many objects are downloaded and decoded ahead of the one being written (writes stay one at
    /// a time, in key order). The default is 4.
    /// </summary>
    public int MaxConcurrentReads { get; set; } = 4;
}

/// <summary>What <see cref="ObjectStorageReplay"/> did.</summary>
internal sealed class ObjectReplayResult
{
    private readonly List<string> _invalid = [];

    /// <summary>Gets the number of objects read and written.</summary>
    public int Objects { get; internal set; }

    /// <summary>Gets the number of events written (read, in a dry run).</summary>
    public long Events { get; internal set; }

    /// <summary>Gets the number of objects skipped because their keys are not in the collector's layout.</summary>
    public int ForeignObjects { get; internal set; }

    /// <summary>Gets the keys of objects skipped because their content is not valid gzip NDJSON of stored events.</summary>
    public IReadOnlyList<string> InvalidObjects => _invalid;

    internal void AddInvalid(string key) => _invalid.Add(key);
}

/// <summary>An object being downloaded ahead of its write.</summary>
internal readonly record struct ObjectRead(string Key, ObjectKeyInfo Info, Task<List<CollectedEvent>> Events);
