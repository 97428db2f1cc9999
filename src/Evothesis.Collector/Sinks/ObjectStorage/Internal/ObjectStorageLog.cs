using Microsoft.Extensions.Logging;

namespace Evothesis.Collector.Sinks.ObjectStorage.Internal;

/// <summary>Log messages of object storage and replay, event ids 1600-1699. Keys and counts only, never content.</summary>
internal static partial class ObjectStorageLog
{
    [LoggerMessage(1600, LogLevel.Debug, "Wrote {Key} ({Count} events, {Bytes} bytes) to {Store}")]
    public static partial void ObjectWritten(ILogger logger, string key, int count, long bytes, string store);

    [LoggerMessage(1601, LogLevel.Warning, "Client {ClientId} names the dedicated bucket {Bucket}, but {Store} does not route to dedicated buckets (no S3 client bucket is configured, or Evothesis:S3:UseClientBuckets is false): its objects go to {Store}")]
    public static partial void DedicatedBucketIgnored(ILogger logger, string clientId, string bucket, string store);

    [LoggerMessage(1602, LogLevel.Debug, "Uploading {Key} ({Bytes} bytes) to {Store} in {Parts} parts")]
    public static partial void MultipartUpload(ILogger logger, string key, string store, long bytes, int parts);

    [LoggerMessage(1603, LogLevel.Warning, "Could not abort the multipart upload of {Key} in {Store}; its parts remain until a lifecycle rule removes them")]
    public static partial void AbortFailed(ILogger logger, Exception exception, string key, string store);

    [LoggerMessage(1604, LogLevel.Warning, "Could not remove {Key} from {Store} after its integrity check failed")]
    public static partial void DeleteFailed(ILogger logger, Exception exception, string key, string store);

    [LoggerMessage(1605, LogLevel.Information, "Events are written to {Sinks}")]
    public static partial void SinksConfigured(ILogger logger, string sinks);

    [LoggerMessage(1610, LogLevel.Information, "Replaying {Store}{Prefix} into {Sink} (clients: {Clients}, from {From} to {To})")]
    public static partial void ReplayStarted(ILogger logger, string store, string prefix, string sink, string clients, string from, string to);

    [LoggerMessage(1611, LogLevel.Debug, "Replayed {Key}: {Count} events")]
    public static partial void ObjectReplayed(ILogger logger, string key, int count);

    [LoggerMessage(1612, LogLevel.Warning, "Skipped {Key}: its key is not in the collector's layout")]
    public static partial void ForeignObjectSkipped(ILogger logger, string key);

    [LoggerMessage(1613, LogLevel.Error, "Skipped {Key}: it is not valid gzip NDJSON of stored events")]
    public static partial void InvalidObjectSkipped(ILogger logger, Exception exception, string key);

    [LoggerMessage(1614, LogLevel.Information, "Replay finished: {Objects} objects, {Events} events written, {Foreign} foreign and {Invalid} invalid objects skipped")]
    public static partial void ReplayFinished(ILogger logger, int objects, long events, int foreign, int invalid);
}
