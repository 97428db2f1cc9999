namespace Evothesis.Collector.Batching.Internal;

/// <summary>
/// How a spool consumer batches for one sink: a batch is delivered once <see cref="MaxEvents"/> events or
/// <see cref="MaxBytes"/> spooled bytes are waiting, or once its oldest record is <see cref="MaxAge"/> old, whichever
/// comes first; up to <see cref="MaxInFlight"/> batches are written at the same time (the cursor still moves in order).
/// </summary>
/// <param name="MaxEvents">The most events in one batch (a request's events are never split).</param>
/// <param name="MaxBytes">The most spooled payload bytes in one batch.</param>
/// <param name="MaxAge">How long the oldest waiting record may wait for more to join its batch; zero delivers at once.</param>
/// <param name="MaxInFlight">How many batches may be written at once; 1 for sinks whose object keys follow batch boundaries.</param>
internal readonly record struct DeliveryPolicy(int MaxEvents, long MaxBytes, TimeSpan MaxAge, int MaxInFlight)
{
    /// <summary>The policy of a sink that names none: <see cref="BatchingOptions.BatchSize"/> events, 16 MiB, <see cref="BatchingOptions.DeliveryDelay"/>, one at a time.</summary>
    public static DeliveryPolicy Default(BatchingOptions options) =>
        new(options.BatchSize, 16L * 1024 * 1024, options.DeliveryDelay, 1);
}

/// <summary>A sink that names its own <see cref="DeliveryPolicy"/> (the object stores: large objects; PostgreSQL: several COPYs in flight).</summary>
internal interface IDeliveryPolicySource
{
    /// <summary>Gets the sink's policy, given the collector's batching options.</summary>
    DeliveryPolicy GetDeliveryPolicy(BatchingOptions options);
}
