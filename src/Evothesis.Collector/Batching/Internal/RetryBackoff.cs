namespace Evothesis.Collector.Batching.Internal;

/// <summary>
/// How long a spool consumer waits before it tries a failed delivery again: exponential from
/// <see cref="BatchingOptions.RetryBaseDelay"/>, capped at <see cref="BatchingOptions.RetryMaxDelay"/>, with jitter so
/// that consumers failing together do not retry together. A transient failure is retried for as long as the spool has
/// room: the spool, not the retry count, bounds what an outage costs.
/// </summary>
internal sealed class RetryBackoff(TimeSpan baseDelay, TimeSpan maxDelay)
{
    /// <summary>Gets the delay before the given retry.</summary>
    /// <param name="attempt">The number of failed attempts so far, from 1.</param>
    /// <param name="random">A value in [0, 1): the jitter draw.</param>
    /// <returns>A delay between half and all of the capped exponential delay.</returns>
    public TimeSpan Delay(int attempt, double random)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(attempt, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(random);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(random, 1d);

        // 2^30 base delays is past any sensible cap: stop doubling before the ticks overflow.
        var exponential = baseDelay.Ticks * Math.Pow(2, Math.Min(attempt - 1, 30));
        var capped = Math.Min(exponential, maxDelay.Ticks);
        return TimeSpan.FromTicks((long)(capped * (0.5 + (random / 2))));
    }
}
