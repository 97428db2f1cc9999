using Evothesis.Collector.Events;
using Evothesis.Collector.Sinks.ObjectStorage;

namespace Evothesis.Collector.Tests.Support;

internal static class ObjectStoreTestExtensions
{
    public static async Task<List<string>> ListKeysAsync(this IObjectStore store, string prefix = "")
    {
        var keys = new List<string>();
        await foreach (var e in store.ListAsync(prefix, CancellationToken.None))
        {
            // The local folder also holds the collector's write-ahead spool (its working state, not stored events).
            if (store is not LocalFolderObjectStore || !e.Key.StartsWith(Evothesis.Collector.Spool.SpoolOptions.DefaultFolderName + "/", StringComparison.Ordinal))
            {
                keys.Add(e.Key);
            }
        }

        return keys;
    }

    public static async Task<List<CollectedEvent>> ReadEventsAsync(this IObjectStore store, string key)
    {
        await using var stored = await store.GetAsync(key, CancellationToken.None);
        return await DecodeAllAsync(stored.Content);
    }

    public static async Task<List<CollectedEvent>> DecodeAllAsync(Stream content)
    {
        var events = new List<CollectedEvent>();
        await foreach (var e in ObjectStorageEventSink.DecodeAsync(content))
        {
            events.Add(e);
        }

        return events;
    }
}
