using Evothesis.Collector.Spool.Internal;
using Evothesis.Collector.Tests.Support;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Evothesis.Collector.Tests.Spool;

public class WriteAheadSpoolTests
{
    private static readonly TimeSpan Deadline = SpoolTestContext.Deadline;

    private SpoolTestContext _context = null!;

    [SetUp]
    public void SetUp() => _context = new SpoolTestContext();

    [TearDown]
    public async Task TearDown() => await _context.DisposeAsync();

    [Test]
    public async Task Append_Records_AreReadBackInOrderWithTheirPositionsAndAppendTimes()
    {
        var spool = _context.Open();
        var payloads = Enumerable.Range(0, 5).Select(i => SpoolTestContext.Payload(10 + i * 7, i)).ToList();

        var appends = payloads.Select(p => spool.Append(p)).ToList();
        await Task.WhenAll(appends.Select(a => a.Durable)).WaitAsync(Deadline);

        appends.Should().OnlyContain(a => a.Status == SpoolAppendStatus.Accepted);
        appends[0].Position.Should().Be(0);
        for (var i = 1; i < appends.Count; i++)
        {
            appends[i].Position.Should().Be(appends[i - 1].EndPosition, "positions are consecutive byte offsets");
        }

        spool.DurablePosition.Should().Be(appends[^1].EndPosition);
        var records = await SpoolTestContext.ReadAllAsync(spool, "postgresql");
        records.Select(r => r.Payload.ToArray()).Should().BeEquivalentTo(payloads, o => o.WithStrictOrdering());
        records.Select(r => r.Position).Should().Equal(appends.Select(a => a.Position));
        records.Select(r => r.NextPosition).Should().Equal(appends.Select(a => a.EndPosition));
        records.Should().OnlyContain(r => r.AppendedAt == _context.Time.GetUtcNow());
    }

    [Test]
    public async Task Append_SegmentFile_StartsWithHeaderAndFramesEachRecordWithLengthAndChecksum()
    {
        var spool = _context.Open();
        await spool.Append("hello"u8).Durable.WaitAsync(Deadline);

        var bytes = await File.ReadAllBytesAsync(_context.Segments().Single());

        Path.GetFileName(_context.Segments().Single()).Should().Be("00000000000000000000.seg");
        bytes.Should().HaveCount(SpoolFormat.SegmentHeaderSize + SpoolFormat.FrameHeaderSize + 5);
        bytes.AsSpan(0, 4).ToArray().Should().Equal("EVSP"u8.ToArray());
        var frame = bytes.AsSpan(SpoolFormat.SegmentHeaderSize);
        SpoolFormat.IsIntact(frame).Should().BeTrue();
        var header = SpoolFormat.ReadFrameHeader(frame);
        header.PayloadLength.Should().Be(5);
        header.Continued.Should().BeFalse();
        header.AppendedAtMilliseconds.Should().Be(_context.Time.GetUtcNow().ToUnixTimeMilliseconds());
        frame[SpoolFormat.FrameHeaderSize..].ToArray().Should().Equal("hello"u8.ToArray());
    }

    [Test]
    public async Task Append_RecordsNobodyWaitsFor_BecomeDurableAndReadableWithoutAWaiter()
    {
        var spool = _context.Open();

        var lazy = Enumerable.Range(0, 20).Select(i => spool.Append(SpoolTestContext.Payload(50, i), waited: false)).ToList();
        await Task.WhenAll(lazy.Select(a => a.Durable)).WaitAsync(Deadline);

        lazy.Should().OnlyContain(a => a.Status == SpoolAppendStatus.Accepted);
        spool.DurablePosition.Should().Be(lazy[^1].EndPosition, "a record nobody waits for is still written, within the delay");
        (await SpoolTestContext.ReadAllAsync(spool, "postgresql")).Should().HaveCount(20);
    }

    [Test]
    public async Task Append_WaitedRecordBehindOnesNobodyWaitsFor_TakesThemAlong()
    {
        var spool = _context.Open();
        var lazy = spool.Append("lazy"u8, waited: false);
        var waited = spool.Append("waited"u8);

        await waited.Durable.WaitAsync(Deadline);

        lazy.Durable.IsCompletedSuccessfully.Should().BeTrue("the earlier record is written with the one a request waits for");
        spool.DurablePosition.Should().Be(waited.EndPosition);
    }

    [Test]
    public async Task Append_ConcurrentAppendsWhileAFlushIsInProgress_ShareTheNextFlush()
    {
        var spool = _context.Open();
        await spool.Append("first"u8).Durable.WaitAsync(Deadline);
        var flushesBefore = _context.Files.Flushes;

        var held = _context.Files.HoldNextFlush();
        var blocking = spool.Append("blocking"u8);
        await held.WaitAsync(Deadline);
        var during = Enumerable.Range(0, 50)
            .AsParallel()
            .Select(i => spool.Append(SpoolTestContext.Payload(100, i)))
            .ToList();
        during.Should().OnlyContain(a => !a.Durable.IsCompleted, "nothing is durable while the flush before them runs");
        _context.Files.ReleaseFlush();
        await Task.WhenAll(during.Select(a => a.Durable).Append(blocking.Durable)).WaitAsync(Deadline);

        (_context.Files.Flushes - flushesBefore).Should().Be(2, "the 50 appends that arrived during one flush share the next one");
        during.Select(a => a.Durable).Distinct().Should().ContainSingle("appends of one flush share one task");
    }

    [Test]
    public async Task Append_IdleWriter_FlushesAtOnceWithoutATimer()
    {
        var spool = _context.Open();

        var append = spool.Append("alone"u8);

        await append.Durable.WaitAsync(Deadline);
        _context.Time.GetUtcNow().Should().Be(_context.Time.Start, "no fake time passed: the writer does not wait for a timer");
    }

    [Test]
    public async Task Append_SeveralRecordsAsOne_GetConsecutivePositionsAndOneTask()
    {
        var spool = _context.Open();
        ReadOnlyMemory<byte>[] payloads = ["a"u8.ToArray(), "bb"u8.ToArray(), "ccc"u8.ToArray()];

        var append = spool.Append(payloads);
        await append.Durable.WaitAsync(Deadline);

        append.EndPosition.Should().Be(append.Position + 3 * SpoolFormat.FrameHeaderSize + 6);
        var records = await SpoolTestContext.ReadAllAsync(spool, "postgresql");
        records.Select(r => r.Payload.ToArray()).Should().BeEquivalentTo(payloads.Select(p => p.ToArray()), o => o.WithStrictOrdering());
    }

    [Test]
    public async Task Append_PastSegmentBytes_RollsToANewSegmentNamedByItsBasePositionAndFlushesTheFolder()
    {
        _context.Options.SegmentBytes = 1024;
        var spool = _context.Open();
        var directoryFlushes = _context.Files.DirectoryFlushes;

        var appends = new List<SpoolAppendResult>();
        for (var i = 0; i < 10; i++)
        {
            appends.Add(spool.Append(SpoolTestContext.Payload(300, i)));
            await appends[^1].Durable.WaitAsync(Deadline);
        }

        var segments = _context.Segments();
        segments.Should().HaveCount(4, "three 316-byte records fit in 1024 bytes with the header");
        foreach (var segment in segments)
        {
            new FileInfo(segment).Length.Should().BeLessThanOrEqualTo(1024);
            var basePosition = long.Parse(Path.GetFileNameWithoutExtension(segment), System.Globalization.CultureInfo.InvariantCulture);
            var header = (await File.ReadAllBytesAsync(segment)).AsSpan(0, SpoolFormat.SegmentHeaderSize);
            SpoolFormat.IsValidSegmentHeader(header, basePosition).Should().BeTrue();
            appends.Should().Contain(a => a.Position == basePosition, "a segment starts at its first record's position");
        }

        (_context.Files.DirectoryFlushes - directoryFlushes).Should().BeGreaterThanOrEqualTo(segments.Length, "each new segment's entry is flushed");
        spool.SegmentCount.Should().Be(4);
        var records = await SpoolTestContext.ReadAllAsync(spool, "postgresql");
        records.Select(r => r.Position).Should().Equal(appends.Select(a => a.Position));
    }

    [Test]
    public void Append_RecordLargerThanASegment_Throws()
    {
        _context.Options.SegmentBytes = 1024;
        var spool = _context.Open();

        var act = () => spool.Append(new byte[spool.MaxRecordBytes + 1]);

        act.Should().Throw<ArgumentOutOfRangeException>();
        spool.Append(new byte[spool.MaxRecordBytes]).Status.Should().Be(SpoolAppendStatus.Accepted);
    }

    [Test]
    public async Task Append_PastMaxBytes_IsRefusedAsFullSynchronouslyAndAcceptedAgainOnceConsumed()
    {
        _context.Options.SegmentBytes = 1024;
        _context.Options.MaxBytes = 2048;
        _context.Options.MaxPendingBytes = 2048;
        var spool = _context.Open();
        using var refused = _context.Collect<long>("evothesis.collector.spool.appends.refused");

        var accepted = new List<SpoolAppendResult>();
        SpoolAppendResult last;
        while ((last = spool.Append(SpoolTestContext.Payload(300, accepted.Count))).IsAccepted)
        {
            accepted.Add(last);
            await last.Durable.WaitAsync(Deadline);
        }

        last.Status.Should().Be(SpoolAppendStatus.Full);
        last.Durable.IsFaulted.Should().BeTrue("a refused append is never reported durable");
        accepted.Should().HaveCount(6);
        spool.TotalBytes.Should().BeLessThanOrEqualTo(2048);
        spool.GetHealth().Status.Should().Be(HealthStatus.Degraded);
        refused.GetMeasurementSnapshot().Should().ContainSingle()
            .Which.Tags.Should().Contain(new KeyValuePair<string, object?>("reason", "full"));

        spool.Commit("postgresql", accepted[^1].EndPosition);
        spool.Commit("s3-client", accepted[^1].EndPosition);
        _context.Time.Advance(_context.Options.CheckpointInterval);

        spool.Append(SpoolTestContext.Payload(300, 99)).Status.Should().Be(SpoolAppendStatus.Accepted, "the consumed segment was deleted");
    }

    [Test]
    public async Task Append_FreeDiskBelowTheFloor_IsRefusedAsFull()
    {
        _context.Options.MinFreeDiskBytes = 10_000;
        _context.Files.FreeSpace = 10_500;
        var spool = _context.Open();

        spool.Append(new byte[300]).Status.Should().Be(SpoolAppendStatus.Accepted, "10 184 bytes would be left");
        spool.Append(new byte[300]).Status.Should().Be(SpoolAppendStatus.Full, "the queued bytes count against the free space");

        _context.Files.FreeSpace = 1_000_000;
        await spool.Append(Array.Empty<byte>()).Durable.WaitAsync(Deadline);
        _context.Files.FreeSpace = 10_100;
        await spool.Append(new byte[10]).Durable.WaitAsync(Deadline);

        spool.Append(new byte[300]).Status.Should().Be(SpoolAppendStatus.Full, "the writer measures the free space after each flush");
        spool.GetHealth().Status.Should().Be(HealthStatus.Degraded);
    }

    [Test]
    public async Task Append_WriteFails_FailsTheTaskReportsUnhealthyAndRefusesUntilTheRetryInterval()
    {
        var spool = _context.Open();
        var before = spool.Append("before"u8);
        await before.Durable.WaitAsync(Deadline);

        _context.Files.Failure = new IOException("Read-only file system");
        var failed = spool.Append("lost"u8);
        var act = () => failed.Durable.WaitAsync(Deadline);

        failed.Status.Should().Be(SpoolAppendStatus.Accepted);
        (await act.Should().ThrowAsync<IOException>()).WithInnerException<IOException>().WithMessage("Read-only file system");
        spool.GetHealth().Status.Should().Be(HealthStatus.Unhealthy);
        spool.Append("fast"u8).Status.Should().Be(SpoolAppendStatus.Unavailable, "appends fail fast until the retry interval passed");

        _context.Files.Failure = null;
        _context.Time.Advance(_context.Options.RetryInterval);
        var after = spool.Append("after"u8);
        await after.Durable.WaitAsync(Deadline);

        after.Position.Should().Be(before.EndPosition, "the failed record's position is given again");
        spool.GetHealth().Status.Should().Be(HealthStatus.Healthy);
        var records = await SpoolTestContext.ReadAllAsync(spool, "postgresql");
        records.Select(r => r.Payload.ToArray()).Should().BeEquivalentTo(
            new[] { "before"u8.ToArray(), "after"u8.ToArray() }, o => o.WithStrictOrdering());
        _context.Segments().Should().HaveCount(2, "the spool continues in a new segment after a failed flush");

        var reopened = await _context.ReopenAsync(spool);
        (await SpoolTestContext.ReadAllAsync(reopened, "postgresql")).Should().HaveCount(2);
    }

    [Test]
    public async Task Open_FolderCannotBeCreated_ReportsUnhealthyRefusesAppendsAndOpensOnceItCan()
    {
        var blocker = Path.Combine(_context.Directory.Path, "blocker");
        await File.WriteAllTextAsync(blocker, "a file where the folder's parent should be");
        _context.SpoolPath = Path.Combine(blocker, "spool");

        var spool = _context.Open();

        spool.GetHealth().Status.Should().Be(HealthStatus.Unhealthy);
        spool.Append("x"u8).Status.Should().Be(SpoolAppendStatus.Unavailable);

        File.Delete(blocker);
        _context.Time.Advance(_context.Options.RetryInterval);
        var opened = spool.StateChanged;
        spool.Append("x"u8).Status.Should().Be(SpoolAppendStatus.Unavailable, "this append starts the new attempt");
        await opened.WaitAsync(Deadline);

        var append = spool.Append("y"u8);
        await append.Durable.WaitAsync(Deadline);
        spool.GetHealth().Status.Should().Be(HealthStatus.Healthy);
    }

    [Test]
    public async Task StopAsync_AcceptedRecords_AreFlushedAndLaterAppendsRefused()
    {
        var spool = _context.Open();
        var held = _context.Files.HoldNextFlush();
        var appends = new List<SpoolAppendResult> { spool.Append("one"u8) };
        await held.WaitAsync(Deadline);
        appends.Add(spool.Append("two"u8));
        appends.Add(spool.Append("three"u8));

        var stopping = spool.StopAsync();
        spool.Append("late"u8).Status.Should().Be(SpoolAppendStatus.Stopped);
        _context.Files.ReleaseFlush();
        await stopping.WaitAsync(Deadline);

        appends.Should().OnlyContain(a => a.Durable.IsCompletedSuccessfully);
        await spool.StopAsync().WaitAsync(Deadline);
        var reopened = await _context.ReopenAsync(spool);
        (await SpoolTestContext.ReadAllAsync(reopened, "postgresql")).Select(r => r.Payload.ToArray())
            .Should().BeEquivalentTo(new[] { "one"u8.ToArray(), "two"u8.ToArray(), "three"u8.ToArray() }, o => o.WithStrictOrdering());
    }

    [Test]
    public async Task Append_Flushes_AreMeasured()
    {
        var spool = _context.Open();
        using var fsyncs = _context.Collect<long>("evothesis.collector.spool.fsyncs");
        using var records = _context.Collect<int>("evothesis.collector.spool.fsync.records");

        await spool.Append(["a"u8.ToArray(), "b"u8.ToArray()]).Durable.WaitAsync(Deadline);

        fsyncs.GetMeasurementSnapshot().Sum(m => m.Value).Should().Be(1);
        records.GetMeasurementSnapshot().Should().ContainSingle().Which.Value.Should().Be(2);
    }
}
