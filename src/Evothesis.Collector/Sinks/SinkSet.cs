using Evothesis.Collector.Sinks.ObjectStorage;
using Microsoft.Extensions.Options;

namespace Evothesis.Collector.Sinks;

/// <summary>
/// The sinks every batch goes to: those the host registered, or, when it registered none, the embedded
/// default: gzip NDJSON files in the local storage folder.
/// </summary>
internal sealed class SinkSet
{
    public SinkSet(IEnumerable<IEventSink> registered, IOptions<CollectorOptions> options, CollectorPaths paths)
    {
        var sinks = registered.ToArray();
        Sinks = sinks.Length > 0
            ? sinks
            : [new ObjectStorageEventSink(new LocalFolderObjectStore(paths.Resolve(options.Value.Storage.Path)))];
    }

    public IEventSink[] Sinks { get; }
}
