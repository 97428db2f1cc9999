using Microsoft.Extensions.Logging;

namespace Evothesis.Collector.Batching;

/// <summary>Log messages of batching and delivery, event ids 1300-1399.</summary>
internal static partial class BatchingLog
{
    [LoggerMessage(1300, LogLevel.Information, "Bulk inserted {Count} events for client {ClientId} from site {SiteId}")]
    public static partial void BulkInserted(ILogger logger, int count, string clientId, string siteId);


    [LoggerMessage(1302, LogLevel.Error, "Dropped {Count} acknowledged events: {Reason}")]
    public static partial void EventsDropped(ILogger logger, int count, string reason);

    [LoggerMessage(1303, LogLevel.Information, "Shutting down: {Consumers} sink(s) deliver what the spool holds for them")]
    public static partial void Draining(ILogger logger, int consumers);

    [LoggerMessage(1304, LogLevel.Warning, "Shutdown budget ran out with {Consumers} sink(s) behind: their records stay in the spool for the next start")]
    public static partial void DrainTimedOut(ILogger logger, int consumers);



    [LoggerMessage(1307, LogLevel.Error, "Commit observer {Observer} failed on a stored batch of {Count} events; the events stay stored and acknowledged")]
    public static partial void ObserverFailed(ILogger logger, Exception exception, string observer, int count);

    [LoggerMessage(1308, LogLevel.Warning, "Sink {Sink} failed to write a batch of {Count} events (attempt {Attempt}); retrying in {Delay}. The events stay in the spool")]
    public static partial void DeliveryFailed(ILogger logger, Exception exception, string sink, int count, int attempt, TimeSpan delay);

    [LoggerMessage(1309, LogLevel.Information, "Sink {Sink} is writing again")]
    public static partial void DeliveryRecovered(ILogger logger, string sink);

    [LoggerMessage(1311, LogLevel.Information, "Spool since start: {Fsyncs} fsyncs carried {Records} requests, {RecordsPerFsync:F1} records per fsync, fsync {FsyncMilliseconds:F2} ms mean")]
    public static partial void SpoolSummary(ILogger logger, long fsyncs, long records, double recordsPerFsync, double fsyncMilliseconds);

    [LoggerMessage(1312, LogLevel.Warning, "Sink {Sink} refused a batch of {Requests} requests from spool position {Position} for good {Attempts} times; delivering its requests one by one")]
    public static partial void DeliveringOneByOne(ILogger logger, string sink, int requests, long position, int attempts);

    [LoggerMessage(1313, LogLevel.Error, "Parked {Events} events ({Records} requests) of client {ClientId} that sink {Sink} refused for good, from spool position {Position}: {ExceptionType}: {Reason}. They are in {File}; deliver them again with evothesis-replay once the cause is fixed")]
    public static partial void RecordsParked(ILogger logger, string sink, string clientId, int events, int records, long position, string exceptionType, string reason, string file);

    [LoggerMessage(1314, LogLevel.Error, "Could not park {Records} requests of sink {Sink} in {Folder}; trying again in {Delay}. They stay in the spool")]
    public static partial void ParkFailed(ILogger logger, Exception exception, string sink, int records, string folder, TimeSpan delay);

    [LoggerMessage(1315, LogLevel.Information, "Replayed {Records} parked requests ({Events} events) into {Sink} and deleted {File}")]
    public static partial void ParkedReplayed(ILogger logger, int records, int events, string sink, string file);

    [LoggerMessage(1316, LogLevel.Warning, "Sink {Sink} did not take the parked file {File}; it is kept")]
    public static partial void ParkedReplayFailed(ILogger logger, Exception exception, string file, string sink);

    [LoggerMessage(1310, LogLevel.Critical, "The spool consumer of {Sink} stopped unexpectedly")]
    public static partial void ConsumerFailed(ILogger logger, Exception exception, string sink);
}
