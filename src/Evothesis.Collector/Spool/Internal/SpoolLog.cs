using Microsoft.Extensions.Logging;

namespace Evothesis.Collector.Spool.Internal;

/// <summary>Log messages of the write-ahead spool, event ids 1400-1499. Positions, sizes and counts only, never payloads.</summary>
internal static partial class SpoolLog
{
    [LoggerMessage(1400, LogLevel.Information, "Spool {Path} opened: {Segments} segment(s), {Bytes} bytes, positions {Start} to {End}")]
    public static partial void Opened(ILogger logger, string path, int segments, long bytes, long start, long end);

    [LoggerMessage(1401, LogLevel.Warning, "Spool segment {Segment} ended in a torn write: cut {Bytes} bytes ({Records} record(s)) after the last whole record at position {Position}")]
    public static partial void TornTailCut(ILogger logger, string segment, long bytes, long records, long position);

    [LoggerMessage(1402, LogLevel.Error, "Spool segment {Segment} holds a corrupt record at position {Position}: its last {Bytes} bytes are skipped and left in the file; reading continues with the next segment")]
    public static partial void CorruptRecord(ILogger logger, string segment, long position, long bytes);

    [LoggerMessage(1403, LogLevel.Error, "Spool segment file {File} has no valid header and was set aside as {SetAside}")]
    public static partial void SegmentSetAside(ILogger logger, string file, string setAside);

    [LoggerMessage(1404, LogLevel.Error, "The spool could not write to {Path}: appends are refused for {RetryInterval} and then retried ({Failed} record(s) failed)")]
    public static partial void WriteFailed(ILogger logger, Exception exception, string path, TimeSpan retryInterval, long failed);

    [LoggerMessage(1405, LogLevel.Information, "The spool writes to {Path} again")]
    public static partial void Writable(ILogger logger, string path);

    [LoggerMessage(1406, LogLevel.Error, "The spool folder {Path} could not be opened: appends are refused until it can")]
    public static partial void OpenFailed(ILogger logger, Exception exception, string path);

    [LoggerMessage(1407, LogLevel.Warning, "Could not write the spool checkpoint of consumer {Consumer}: it is retried, and a restart redelivers from the previous one")]
    public static partial void CheckpointFailed(ILogger logger, Exception exception, string consumer);

    [LoggerMessage(1408, LogLevel.Warning, "Spool consumer {Consumer}'s checkpoint {Position} is not at a record boundary of the spool (kept records end at {End}): it resumes at {Resumed}")]
    public static partial void CursorMoved(ILogger logger, string consumer, long position, long end, long resumed);

    [LoggerMessage(1409, LogLevel.Debug, "Deleted spool segment {Segment}: every consumer has committed past position {End}")]
    public static partial void SegmentDeleted(ILogger logger, string segment, long end);

    [LoggerMessage(1410, LogLevel.Warning, "Could not delete spool segment {Segment}; it is retried")]
    public static partial void SegmentDeleteFailed(ILogger logger, Exception exception, string segment);

    [LoggerMessage(1411, LogLevel.Error, "Spool consumer {Consumer} read a corrupt record at position {Position} in segment {Segment}: the rest of the segment is skipped")]
    public static partial void CorruptRead(ILogger logger, string consumer, long position, string segment);

    [LoggerMessage(1412, LogLevel.Information, "Spool stopped at position {End}: {Bytes} bytes left for the consumers")]
    public static partial void Stopped(ILogger logger, long end, long bytes);

    [LoggerMessage(1413, LogLevel.Critical, "The spool writer failed unexpectedly")]
    public static partial void WriterCrashed(ILogger logger, Exception exception);
}
