namespace Evothesis.Collector.Authorization.Internal;

/// <summary>The rate and size of a family of token buckets, in <see cref="TimeProvider"/> timestamp ticks.</summary>
internal readonly struct TokenBucketLimits
{
    public TokenBucketLimits(double tokensPerSecond, int capacity, long timestampFrequency)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(tokensPerSecond);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(capacity);
        TokensPerTick = tokensPerSecond / timestampFrequency;
        Capacity = capacity;
        Frequency = timestampFrequency;
    }

    public double TokensPerTick { get; }

    public double Capacity { get; }

    public long Frequency { get; }
}

/// <summary>
/// The state of one token bucket: tokens refill continuously at the limits' rate up to its capacity, and each grant
/// takes one. A struct, so that a table of buckets per client address allocates nothing per address; not thread-safe
/// (its owner serializes access), and every call passes the time, so tests drive it with a fake clock.
/// </summary>
internal struct TokenBucket
{
    private double _tokens;
    private long _updatedAt;

    /// <summary>Creates a bucket holding its full capacity.</summary>
    public static TokenBucket Full(in TokenBucketLimits limits, long now) => new() { _tokens = limits.Capacity, _updatedAt = now };

    /// <summary>Takes a token if one is there.</summary>
    /// <param name="limits">The bucket's rate and capacity.</param>
    /// <param name="now">The current timestamp.</param>
    /// <param name="wait">When refused, how long until a token is there.</param>
    /// <returns>Whether a token was taken.</returns>
    public bool TryTake(in TokenBucketLimits limits, long now, out TimeSpan wait)
    {
        Refill(limits, now);
        if (_tokens >= 1)
        {
            _tokens -= 1;
            wait = TimeSpan.Zero;
            return true;
        }

        var ticks = Math.Ceiling((1 - _tokens) / limits.TokensPerTick);
        wait = TimeSpan.FromSeconds(ticks / limits.Frequency);
        return false;
    }

    /// <summary>Gives back a token taken for work that was not done.</summary>
    public void Return(in TokenBucketLimits limits, long now)
    {
        Refill(limits, now);
        _tokens = Math.Min(limits.Capacity, _tokens + 1);
    }

    /// <summary>Tells whether the bucket is full: then it is no different from a new one and can be forgotten.</summary>
    public bool IsFull(in TokenBucketLimits limits, long now)
    {
        Refill(limits, now);
        return _tokens >= limits.Capacity;
    }

    private void Refill(in TokenBucketLimits limits, long now)
    {
        // A clock that does not move forward (or moves back) adds nothing.
        if (now > _updatedAt)
        {
            _tokens = Math.Min(limits.Capacity, _tokens + ((now - _updatedAt) * limits.TokensPerTick));
            _updatedAt = now;
        }
    }
}
