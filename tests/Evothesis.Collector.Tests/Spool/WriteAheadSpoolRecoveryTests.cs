using Evothesis.Collector.Spool.Internal;
using Evothesis.Collector.Tests.Support;
using Microsoft.Extensions.Logging;

namespace Evothesis.Collector.Tests.Spool;

public class WriteAheadSpoolRecoveryTests
{
    private static readonly TimeSpan Deadline = SpoolTestContext.Deadline;

    private SpoolTestContext _context = null!;

    [SetUp]
    public void SetUp() => _context = new SpoolTestContext();

    [TearDown]
    public async Task TearDown() => await _context.DisposeAsync();

    [Test]
    public async Task Open_SegmentCutAtEveryByteOffset_KeepsExactlyTheWholeRecordsBeforeTheCut()
    {
        var payloads = new[] { 0, 1, 9, 30 }.Select((length, i) => SpoolTestContext.Payload(length, i)).ToArray();
        var spool = _context.Open();
        var appends = payloads.Select(p => spool.Append(p)).ToList();
        await Task.WhenAll(appends.Select(a => a.Durable)).WaitAsync(Deadline);
        await spool.DisposeAsync();
        var segment = _context.Segments().Single();
        var original = await File.ReadAllBytesAsync(segment);

        for (var cut = 0; cut < original.Length; cut++)
        {
            await File.WriteAllBytesAsync(segment, original.AsSpan(0, cut).ToArray());
            using var truncated = _context.Collect<long>("evothesis.collector.spool.truncated");
            var reopened = _context.Open();

            var dataBytes = Math.Max(0, cut - SpoolFormat.SegmentHeaderSize);
            var kept = appends.TakeWhile(a => a.EndPosition <= dataBytes).ToList();
            var records = await SpoolTestContext.ReadAllAsync(reopened, "postgresql");
            records.Select(r => r.Payload.ToArray()).Should().BeEquivalentTo(
                payloads.Take(kept.Count), o => o.WithStrictOrdering(), "cut at byte {0}", cut);
            var keptEnd = kept.Count == 0 ? 0 : kept[^1].EndPosition;
            reopened.DurablePosition.Should().Be(keptEnd, "cut at byte {0}", cut);
            truncated.GetMeasurementSnapshot().Sum(m => m.Value).Should().Be(
                cut < SpoolFormat.SegmentHeaderSize ? cut : dataBytes - keptEnd, "cut at byte {0}", cut);
            if (cut >= SpoolFormat.SegmentHeaderSize)
            {
                new FileInfo(segment).Length.Should().Be(SpoolFormat.SegmentHeaderSize + keptEnd, "cut at byte {0}", cut);
            }

            var next = reopened.Append("next"u8);
            await next.Durable.WaitAsync(Deadline);
            next.Position.Should().Be(keptEnd, "appends continue after the last whole record (cut at byte {0})", cut);
            await reopened.DisposeAsync();
            File.Delete(segment);
        }
    }

    [Test]
    public async Task Open_TornTail_IsLoggedWithBytesAndRecordsCut()
    {
        var spool = _context.Open();
        await spool.Append(new byte[100]).Durable.WaitAsync(Deadline);
        await spool.Append(new byte[100]).Durable.WaitAsync(Deadline);
        await spool.DisposeAsync();
        var segment = _context.Segments().Single();
        await using (var file = new FileStream(segment, FileMode.Open))
        {
            file.SetLength(file.Length - 50);
        }

        _context.Open();

        _context.Logger.Collector.GetSnapshot().Should().Contain(r =>
            r.Id.Id == 1401 && r.Level == LogLevel.Warning && r.Message.Contains("cut 66 bytes (1 record(s))", StringComparison.Ordinal));
    }

    [TestCase(1)]
    [TestCase(15)]
    [TestCase(16)]
    [TestCase(100)]
    [TestCase(5000)]
    public async Task Open_GarbageAfterTheLastRecord_IsCutAndAppendsContinueAfterTheRecords(int garbageLength)
    {
        var spool = _context.Open();
        var kept = spool.Append("kept"u8);
        await kept.Durable.WaitAsync(Deadline);
        await spool.DisposeAsync();
        var segment = _context.Segments().Single();
        await using (var file = new FileStream(segment, FileMode.Append))
        {
            file.Write(SpoolTestContext.Payload(garbageLength, garbageLength));
        }

        using var truncated = _context.Collect<long>("evothesis.collector.spool.truncated");
        var reopened = _context.Open();
        var next = reopened.Append("next"u8);
        await next.Durable.WaitAsync(Deadline);

        next.Position.Should().Be(kept.EndPosition);
        truncated.GetMeasurementSnapshot().Sum(m => m.Value).Should().Be(garbageLength);
        (await SpoolTestContext.ReadAllAsync(reopened, "postgresql")).Select(r => r.Payload.ToArray())
            .Should().BeEquivalentTo(new[] { "kept"u8.ToArray(), "next"u8.ToArray() }, o => o.WithStrictOrdering());
    }

    [Test]
    public async Task Open_GarbageFramedWithASmallLengthAfterTheLastRecord_IsCut()
    {
        var spool = _context.Open();
        var kept = spool.Append("kept"u8);
        await kept.Durable.WaitAsync(Deadline);
        await spool.DisposeAsync();
        var segment = _context.Segments().Single();
        var frame = new byte[SpoolFormat.FrameHeaderSize + 8];
        SpoolFormat.SealFrame(frame, continued: false, 0);
        frame[^1] ^= 0xFF; // a torn write: the last bytes of the record never reached the disk
        await using (var file = new FileStream(segment, FileMode.Append))
        {
            file.Write(frame);
        }

        var reopened = _context.Open();

        reopened.DurablePosition.Should().Be(kept.EndPosition);
        new FileInfo(segment).Length.Should().Be(SpoolFormat.SegmentHeaderSize + kept.EndPosition);
    }

    [Test]
    public async Task Open_AppendOfSeveralRecordsCutInItsLastRecord_DropsTheWholeAppend()
    {
        var spool = _context.Open();
        var single = spool.Append("single"u8);
        var group = spool.Append(["one"u8.ToArray(), "two"u8.ToArray(), "three"u8.ToArray()]);
        await Task.WhenAll(single.Durable, group.Durable).WaitAsync(Deadline);
        await spool.DisposeAsync();
        var segment = _context.Segments().Single();
        await using (var file = new FileStream(segment, FileMode.Open))
        {
            file.SetLength(file.Length - 1);
        }

        var reopened = _context.Open();

        (await SpoolTestContext.ReadAllAsync(reopened, "postgresql")).Select(r => r.Payload.ToArray())
            .Should().BeEquivalentTo(new[] { "single"u8.ToArray() }, "an append is recovered all or none");
        reopened.DurablePosition.Should().Be(single.EndPosition);
    }

    [Test]
    public async Task Open_CorruptRecordInAnOlderSegment_StopsThatSegmentThereAndContinuesWithTheNext()
    {
        _context.Options.SegmentBytes = 1024;
        var spool = _context.Open();
        var appends = new List<SpoolAppendResult>();
        for (var i = 0; i < 6; i++)
        {
            appends.Add(spool.Append(SpoolTestContext.Payload(300, i)));
            await appends[^1].Durable.WaitAsync(Deadline);
        }

        await spool.DisposeAsync();
        var first = _context.Segments()[0];
        var bytes = await File.ReadAllBytesAsync(first);
        bytes[SpoolFormat.SegmentHeaderSize + (int)appends[1].Position + SpoolFormat.FrameHeaderSize + 10] ^= 0x01;
        await File.WriteAllBytesAsync(first, bytes);
        using var truncated = _context.Collect<long>("evothesis.collector.spool.truncated");

        var reopened = _context.Open();

        var records = await SpoolTestContext.ReadAllAsync(reopened, "postgresql");
        records.Select(r => r.Position).Should().Equal(
            new[] { appends[0], appends[3], appends[4], appends[5] }.Select(a => a.Position),
            "the records before the corrupt one, then the next segment's");
        new FileInfo(first).Length.Should().Be(bytes.Length, "the corrupt part is left in the file for inspection");
        truncated.GetMeasurementSnapshot().Should().ContainSingle().Which.Tags.Should()
            .Contain(new KeyValuePair<string, object?>("reason", "corrupt"));
        _context.Logger.Collector.GetSnapshot().Should().Contain(r => r.Id.Id == 1402 && r.Level == LogLevel.Error);
    }

    [Test]
    public async Task Open_CorruptRecordInTheLastSegment_ContinuesInANewSegmentPastTheOldFile()
    {
        var spool = _context.Open();
        var appends = new List<SpoolAppendResult>();
        for (var i = 0; i < 3; i++)
        {
            appends.Add(spool.Append(SpoolTestContext.Payload(50, i)));
        }

        await Task.WhenAll(appends.Select(a => a.Durable)).WaitAsync(Deadline);
        await spool.DisposeAsync();
        var segment = _context.Segments().Single();
        var bytes = await File.ReadAllBytesAsync(segment);
        bytes[SpoolFormat.SegmentHeaderSize + (int)appends[1].Position + SpoolFormat.FrameHeaderSize] ^= 0x01;
        await File.WriteAllBytesAsync(segment, bytes);

        var reopened = _context.Open();
        var next = reopened.Append("next"u8);
        await next.Durable.WaitAsync(Deadline);

        next.Position.Should().Be(appends[^1].EndPosition, "positions never go back over bytes still in a file");
        _context.Segments().Should().HaveCount(2);
        (await SpoolTestContext.ReadAllAsync(reopened, "postgresql")).Select(r => r.Position)
            .Should().Equal(appends[0].Position, next.Position);
    }

    [Test]
    public async Task Open_SegmentFileWithABadHeader_IsSetAside()
    {
        var spool = _context.Open();
        await spool.Append("kept"u8).Durable.WaitAsync(Deadline);
        await spool.DisposeAsync();
        var foreign = Path.Combine(_context.SpoolPath, SpoolFormat.SegmentFileName(1_000_000));
        await File.WriteAllBytesAsync(foreign, SpoolTestContext.Payload(64, 1));

        var reopened = _context.Open();

        File.Exists(foreign + SpoolFormat.SetAsideExtension).Should().BeTrue();
        (await SpoolTestContext.ReadAllAsync(reopened, "postgresql")).Should().ContainSingle();
    }

    [Test]
    public async Task Open_AfterRestart_PositionsContinueWhereTheyStopped()
    {
        var spool = _context.Open();
        var first = spool.Append("first"u8);
        await first.Durable.WaitAsync(Deadline);

        var reopened = await _context.ReopenAsync(spool);
        var second = reopened.Append("second"u8);
        await second.Durable.WaitAsync(Deadline);

        second.Position.Should().Be(first.EndPosition);
        _context.Segments().Should().ContainSingle("appends continue in the last segment");
    }

    [Test]
    public async Task Open_CheckpointsInsideAtAndPastRecords_ResumeAtTheNextWholeRecord()
    {
        var spool = _context.Open();
        var appends = new[] { "first"u8.ToArray(), "second"u8.ToArray(), "third"u8.ToArray() }.Select(p => spool.Append(p)).ToList();
        await Task.WhenAll(appends.Select(a => a.Durable)).WaitAsync(Deadline);
        await spool.DisposeAsync();

        // Checkpoints the spool did not write itself: inside the second record, and past the last one.
        WriteCheckpoint("postgresql", appends[1].Position + 3);
        WriteCheckpoint("s3-client", appends[2].EndPosition + 100);
        var reopened = _context.Open();

        reopened.GetCommittedPosition("postgresql").Should().Be(appends[1].EndPosition, "a cursor inside a record resumes after it");
        reopened.GetCommittedPosition("s3-client").Should().Be(appends[2].EndPosition, "a cursor past the end resumes at the end");
        (await SpoolTestContext.ReadAllAsync(reopened, "postgresql")).Select(r => r.Payload.ToArray()).Should()
            .BeEquivalentTo(new[] { "third"u8.ToArray() }, o => o.WithStrictOrdering());
    }

    [Test]
    public async Task Open_CheckpointAtARecordsStartOrNone_ResumesThere()
    {
        var spool = _context.Open();
        var appends = new[] { "first"u8.ToArray(), "second"u8.ToArray() }.Select(p => spool.Append(p)).ToList();
        await Task.WhenAll(appends.Select(a => a.Durable)).WaitAsync(Deadline);
        await spool.DisposeAsync();

        WriteCheckpoint("postgresql", appends[1].Position);
        var reopened = _context.Open();

        reopened.GetCommittedPosition("postgresql").Should().Be(appends[1].Position);
        reopened.GetCommittedPosition("s3-client").Should().Be(0, "a consumer without a checkpoint starts at the oldest record");
        (await SpoolTestContext.ReadAllAsync(reopened, "postgresql")).Select(r => r.Payload.ToArray()).Should()
            .BeEquivalentTo(new[] { "second"u8.ToArray() }, o => o.WithStrictOrdering());
        (await SpoolTestContext.ReadAllAsync(reopened, "s3-client")).Should().HaveCount(2);
    }

    private void WriteCheckpoint(string consumer, long position)
    {
        var content = new byte[SpoolFormat.CheckpointSize];
        SpoolFormat.WriteCheckpoint(content, position);
        File.WriteAllBytes(Path.Combine(_context.SpoolPath, consumer + SpoolFormat.CheckpointExtension), content);
    }
}
