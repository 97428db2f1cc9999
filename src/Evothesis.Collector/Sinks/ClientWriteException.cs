using System.Collections.Frozen;

namespace Evothesis.Collector.Sinks;

/// <summary>
/// A sink stored a batch's events for some clients and not for others, such as a client whose dedicated bucket
/// refused the write. The collector acknowledges the requests of the clients that were written and refuses those
/// of <see cref="FailedClientIds"/> (their senders retry), so one client's broken destination does not fail every
/// other client's requests.
/// </summary>
/// <remarks>
/// A sink throws it only when every event of the other clients is stored; any other exception fails the whole
/// batch. The message names the clients, never an event's values.
/// </remarks>
public sealed class ClientWriteException : Exception
{
    /// <summary>Initializes a new instance of the <see cref="ClientWriteException"/> class.</summary>
    public ClientWriteException()
        : this("Some clients' events were not written.")
    {
    }

    /// <summary>Initializes a new instance of the <see cref="ClientWriteException"/> class.</summary>
    /// <param name="message">What failed.</param>
    public ClientWriteException(string message)
        : this(message, null)
    {
    }

    /// <summary>Initializes a new instance of the <see cref="ClientWriteException"/> class.</summary>
    /// <param name="message">What failed.</param>
    /// <param name="innerException">The first failure.</param>
    public ClientWriteException(string message, Exception? innerException)
        : base(message, innerException)
    {
        FailedClientIds = FrozenSet<string>.Empty;
    }

    /// <summary>Initializes a new instance of the <see cref="ClientWriteException"/> class.</summary>
    /// <param name="failedClientIds">The clients whose events were not written.</param>
    /// <param name="innerException">The first failure.</param>
    public ClientWriteException(IEnumerable<string> failedClientIds, Exception? innerException)
        : this(failedClientIds, innerException, isPermanent: false)
    {
    }

    /// <summary>Initializes a new instance of the <see cref="ClientWriteException"/> class.</summary>
    /// <param name="failedClientIds">The clients whose events were not written.</param>
    /// <param name="innerException">The first failure.</param>
    /// <param name="isPermanent">Whether the failure is for good (a dedicated bucket that does not exist, access denied).</param>
    public ClientWriteException(IEnumerable<string> failedClientIds, Exception? innerException, bool isPermanent)
        : this(failedClientIds.ToFrozenSet(StringComparer.Ordinal), innerException, isPermanent)
    {
    }

    private ClientWriteException(FrozenSet<string> failedClientIds, Exception? innerException, bool isPermanent)
        : base(
            $"The events of {failedClientIds.Count} client(s) were not written ({string.Join(", ", failedClientIds.Order(StringComparer.Ordinal))}" +
            (isPermanent ? ", for good" : string.Empty) + "); the batch's other clients' events, if any, were.",
            innerException)
    {
        FailedClientIds = failedClientIds;
        IsPermanent = isPermanent;
    }

    /// <summary>
    /// Gets a value indicating whether writing the failed clients' events again will not help (their dedicated bucket
    /// does not exist, or refuses the collector). Their requests are then parked after
    /// <see cref="Batching.BatchingOptions.ParkAfterAttempts"/> attempts instead of holding back the sink.
    /// </summary>
    public bool IsPermanent { get; }

    /// <summary>Gets the clients whose events were not written.</summary>
    public IReadOnlySet<string> FailedClientIds { get; }
}
