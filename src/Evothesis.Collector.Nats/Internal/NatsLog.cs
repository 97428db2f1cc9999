using Microsoft.Extensions.Logging;

namespace Evothesis.Collector.Nats.Internal;

/// <summary>Log messages of the NATS JetStream sink and loader, event ids 1900-1999. Never payload values.</summary>
internal static partial class NatsLog
{
    [LoggerMessage(1900, LogLevel.Information, "JetStream stream {Stream} is ready for {Subjects} with {Replicas} replica(s)")]
    public static partial void StreamReady(ILogger logger, string stream, string subjects, int replicas);

    [LoggerMessage(1901, LogLevel.Warning, "Preparing JetStream stream {Stream} failed; trying again with the next write")]
    public static partial void StreamFailed(ILogger logger, Exception exception, string stream);

    [LoggerMessage(1902, LogLevel.Warning, "JetStream stream {Stream} refused {Count} of {Total} events for good (error {ErrorCode}: {Reason})")]
    public static partial void PublishRefused(ILogger logger, string stream, int count, int total, int errorCode, string reason);

    [LoggerMessage(1910, LogLevel.Information, "Loader for sink {Sink} reads stream {Stream} with durable consumer {Consumer}")]
    public static partial void LoaderStarted(ILogger logger, string sink, string stream, string consumer);

    [LoggerMessage(1911, LogLevel.Warning, "Loader for sink {Sink}: writing {Count} events failed (attempt {Attempt}); retrying in {Delay}")]
    public static partial void WriteFailed(ILogger logger, Exception exception, string sink, int count, int attempt, TimeSpan delay);

    [LoggerMessage(1912, LogLevel.Error, "Loader for sink {Sink}: parked {Count} message(s) of client {ClientId} (stream sequence {Sequence}) in {ParkedSubject}: {ErrorType}: {Reason}")]
    public static partial void Parked(ILogger logger, string sink, int count, string clientId, ulong sequence, string parkedSubject, string errorType, string reason);

    [LoggerMessage(1913, LogLevel.Warning, "Loader for sink {Sink}: reading the stream failed; trying again in {Delay}")]
    public static partial void FetchFailed(ILogger logger, Exception exception, string sink, TimeSpan delay);

    [LoggerMessage(1914, LogLevel.Debug, "Loader for sink {Sink}: wrote {Count} events (stream sequences {First} to {Last})")]
    public static partial void Loaded(ILogger logger, string sink, int count, ulong first, ulong last);

    [LoggerMessage(1915, LogLevel.Information, "Loader for sink {Sink} recovered after {Attempts} failed attempts")]
    public static partial void Recovered(ILogger logger, string sink, int attempts);
}
