using Evothesis.Collector.Authorization.Internal;

namespace Evothesis.Collector.Tests.Authorization;

[TestFixture]
public sealed class TokenBucketTests
{
    // Powers of two, so that token arithmetic is exact: 1/256 of a token per tick.
    private const long Frequency = 1_024;
    private static readonly TokenBucketLimits Limits = new(tokensPerSecond: 4, capacity: 2, Frequency);

    [Test]
    public void TryTake_Empty_TellsHowLongUntilTheNextToken()
    {
        var bucket = TokenBucket.Full(Limits, now: 0);
        bucket.TryTake(Limits, 0, out _).Should().BeTrue();
        bucket.TryTake(Limits, 0, out _).Should().BeTrue();

        bucket.TryTake(Limits, 128, out var wait).Should().BeFalse("half a token is back after 125 ms");

        wait.Should().Be(TimeSpan.FromMilliseconds(125));
        bucket.TryTake(Limits, 256, out _).Should().BeTrue();
    }

    [Test]
    public void IsFull_AfterEnoughTime_IsTrueAndNeverExceedsTheCapacity()
    {
        var bucket = TokenBucket.Full(Limits, now: 0);
        bucket.TryTake(Limits, 0, out _);
        bucket.IsFull(Limits, 128).Should().BeFalse();
        bucket.IsFull(Limits, 256).Should().BeTrue();

        bucket.Return(Limits, 10_000);

        bucket.TryTake(Limits, 10_000, out _).Should().BeTrue();
        bucket.TryTake(Limits, 10_000, out _).Should().BeTrue();
        bucket.TryTake(Limits, 10_000, out _).Should().BeFalse("a token returned to a full bucket is not kept");
    }

    [Test]
    public void TryTake_ClockGoesBack_AddsNothing()
    {
        var bucket = TokenBucket.Full(Limits, now: 1_000);
        bucket.TryTake(Limits, 1_000, out _);
        bucket.TryTake(Limits, 1_000, out _);

        bucket.TryTake(Limits, 0, out _).Should().BeFalse();
    }
}
