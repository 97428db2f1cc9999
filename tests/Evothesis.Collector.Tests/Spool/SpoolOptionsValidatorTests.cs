using Evothesis.Collector.Sinks.ObjectStorage;
using Evothesis.Collector.Spool;
using Evothesis.Collector.Spool.Internal;

namespace Evothesis.Collector.Tests.Spool;

public class SpoolOptionsValidatorTests
{
    [Test]
    public void Validate_Defaults_Succeed()
    {
        new SpoolOptionsValidator().Validate(null, new SpoolOptions()).Succeeded.Should().BeTrue();
    }

    [Test]
    public void Validate_MaxBytesBelowTwoSegments_FailsNamingBothValues()
    {
        var options = new SpoolOptions { MaxBytes = 100_000_000, SegmentBytes = 64L * 1024 * 1024, MaxPendingBytes = 1024 * 1024 };

        var result = new SpoolOptionsValidator().Validate(null, options);

        result.Failures.Should().ContainSingle().Which.Should()
            .Contain("Evothesis:Spool:MaxBytes (100000000)").And.Contain("Evothesis:Spool:SegmentBytes (67108864)");
    }

    [Test]
    public void Validate_BadValues_FailWithTheirValues()
    {
        var options = new SpoolOptions
        {
            SegmentBytes = 10,
            MaxPendingBytes = 5_000_000_000,
            MinFreeDiskBytes = -1,
            CheckpointInterval = TimeSpan.Zero,
            RetryInterval = TimeSpan.FromHours(1),
            MaxConsumerLag = TimeSpan.Zero,
        };

        var failures = new SpoolOptionsValidator().Validate(null, options).Failures;

        failures.Should().Contain(f => f.StartsWith("Evothesis:Spool:SegmentBytes (10)", StringComparison.Ordinal));
        failures.Should().Contain(f => f.StartsWith("Evothesis:Spool:MaxPendingBytes (5000000000)", StringComparison.Ordinal));
        failures.Should().Contain(f => f.StartsWith("Evothesis:Spool:MinFreeDiskBytes (-1)", StringComparison.Ordinal));
        failures.Should().Contain(f => f.StartsWith("Evothesis:Spool:CheckpointInterval (00:00:00)", StringComparison.Ordinal));
        failures.Should().Contain(f => f.StartsWith("Evothesis:Spool:RetryInterval (01:00:00)", StringComparison.Ordinal));
        failures.Should().Contain(f => f.StartsWith("Evothesis:Spool:MaxConsumerLag (00:00:00)", StringComparison.Ordinal));
    }

    [Test]
    public void CollectorOptionsValidator_BadSpoolOptions_AreReported()
    {
        var options = new CollectorOptions { Spool = { SegmentBytes = 10 } };

        var result = new Evothesis.Collector.Batching.BatchingOptionsValidator().Validate(null, options);

        result.Failures.Should().Contain(f => f.StartsWith("Evothesis:Spool:SegmentBytes (10)", StringComparison.Ordinal));
    }

    [Test]
    public void ResolvePath_NotSet_IsASpoolFolderUnderTheStoragePath()
    {
        var paths = new CollectorPaths();
        var storage = new StorageOptions { Path = "/var/lib/evothesis" };

        new SpoolOptions().ResolvePath(paths, storage).Should().Be("/var/lib/evothesis/spool");
        new SpoolOptions { Path = "/mnt/spool" }.ResolvePath(paths, storage).Should().Be("/mnt/spool");
    }
}
