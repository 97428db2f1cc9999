using Evothesis.Collector.Spool.Internal;
using Evothesis.Collector.Tests.Support;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Evothesis.Collector.Tests.Spool;

public class WriteAheadSpoolConsumerTests
{
    /// <summary>The real file operations, with a flush of one file held (its nth) until the test releases it.</summary>
    private sealed class HoldingFileSystem : ISpoolFileSystem
    {
        private readonly PhysicalSpoolFileSystem _inner = PhysicalSpoolFileSystem.Instance;
        private readonly System.Collections.Concurrent.ConcurrentDictionary<Microsoft.Win32.SafeHandles.SafeFileHandle, string> _paths = new();
        private readonly System.Collections.Concurrent.ConcurrentDictionary<string, int> _flushes = new(StringComparer.Ordinal);
        private readonly System.Collections.Concurrent.ConcurrentDictionary<(string File, int Flush), HeldFlush> _holds = new();

        public HeldFlush Hold(string fileName, int flush) => _holds[(fileName, flush)] = new HeldFlush();

        public void CreateDirectory(string path) => _inner.CreateDirectory(path);

        public Microsoft.Win32.SafeHandles.SafeFileHandle OpenForWrite(string path, FileMode mode)
        {
            var file = _inner.OpenForWrite(path, mode);
            _paths[file] = Path.GetFileName(path);
            return file;
        }

        public void Write(Microsoft.Win32.SafeHandles.SafeFileHandle file, ReadOnlySpan<byte> data, long fileOffset) => _inner.Write(file, data, fileOffset);

        public void Flush(Microsoft.Win32.SafeHandles.SafeFileHandle file)
        {
            var name = _paths.GetValueOrDefault(file, string.Empty);
            var count = _flushes.AddOrUpdate(name, 1, (_, n) => n + 1);
            if (_holds.TryRemove((name, count), out var hold))
            {
                hold.Wait();
            }

            _inner.Flush(file);
        }

        public void FlushDirectory(string path) => _inner.FlushDirectory(path);

        public void SetLength(Microsoft.Win32.SafeHandles.SafeFileHandle file, long length) => _inner.SetLength(file, length);

        public void Move(string source, string destination) => _inner.Move(source, destination);

        public void Delete(string path) => _inner.Delete(path);

        public long GetAvailableFreeSpace(string path) => _inner.GetAvailableFreeSpace(path);
    }

    private sealed class HeldFlush
    {
        private readonly TaskCompletionSource _entered = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly ManualResetEventSlim _release = new(false);

        public Task Entered => _entered.Task;

        public void Release() => _release.Set();

        public void Wait()
        {
            _entered.TrySetResult();
            _release.Wait(TimeSpan.FromSeconds(10));
        }
    }

    private static readonly TimeSpan Deadline = SpoolTestContext.Deadline;

    private SpoolTestContext _context = null!;

    [SetUp]
    public void SetUp() => _context = new SpoolTestContext();

    [TearDown]
    public async Task TearDown() => await _context.DisposeAsync();

    [Test]
    public async Task Commit_CursorsSurviveAReopen_ReadersResumeAfterWhatWasCommitted()
    {
        var spool = _context.Open();
        var appends = Enumerable.Range(0, 4).Select(i => spool.Append(SpoolTestContext.Payload(20, i))).ToList();
        await Task.WhenAll(appends.Select(a => a.Durable)).WaitAsync(Deadline);

        spool.Commit("postgresql", appends[1].EndPosition);
        var reopened = await _context.ReopenAsync(spool);

        reopened.GetCommittedPosition("postgresql").Should().Be(appends[1].EndPosition);
        (await SpoolTestContext.ReadAllAsync(reopened, "postgresql")).Select(r => r.Position)
            .Should().Equal(appends[2].Position, appends[3].Position);
        (await SpoolTestContext.ReadAllAsync(reopened, "s3-client")).Should().HaveCount(4, "a consumer without a checkpoint starts at the oldest record");
    }

    [Test]
    public async Task Commit_CheckpointIsWrittenLazilyEveryCheckpointInterval()
    {
        var spool = _context.Open();
        var append = spool.Append("x"u8);
        await append.Durable.WaitAsync(Deadline);
        var checkpoint = Path.Combine(_context.SpoolPath, "postgresql" + SpoolFormat.CheckpointExtension);

        spool.Commit("postgresql", append.EndPosition);

        File.Exists(checkpoint).Should().BeFalse("commits are written on the next checkpoint tick, not on every commit");
        _context.Time.Advance(_context.Options.CheckpointInterval);
        SpoolFormat.TryReadCheckpoint(await File.ReadAllBytesAsync(checkpoint), out var position).Should().BeTrue();
        position.Should().Be(append.EndPosition);
        Directory.GetFiles(_context.SpoolPath, "*" + SpoolFormat.TemporaryExtension).Should().BeEmpty();
    }

    [Test]
    public async Task Commit_PastTheDurableEnd_Throws()
    {
        var spool = _context.Open();
        var append = spool.Append("x"u8);
        await append.Durable.WaitAsync(Deadline);

        var act = () => spool.Commit("postgresql", append.EndPosition + 1);

        act.Should().Throw<ArgumentOutOfRangeException>();
        FluentActions.Invoking(() => spool.Commit("unknown", 0)).Should().Throw<ArgumentException>().WithMessage("*unknown*");
    }

    [Test]
    public async Task DeleteConsumedSegments_DeletesASegmentOnlyOnceEveryConsumerCommittedPastIt()
    {
        _context.Options.SegmentBytes = 1024;
        _context.Consumers = ["postgresql", "s3-client", "s3-backup"];
        var spool = _context.Open();
        var appends = new List<SpoolAppendResult>();
        for (var i = 0; i < 9; i++)
        {
            appends.Add(spool.Append(SpoolTestContext.Payload(300, i)));
            await appends[^1].Durable.WaitAsync(Deadline);
        }

        var segments = _context.Segments();
        segments.Should().HaveCount(3);
        spool.Commit("postgresql", appends[^1].EndPosition);
        spool.Commit("s3-client", appends[^1].EndPosition);
        spool.Commit("s3-backup", appends[4].EndPosition);
        _context.Time.Advance(_context.Options.CheckpointInterval);

        _context.Segments().Should().Equal(segments[1..], "s3-backup is still inside the second segment");

        spool.Commit("s3-backup", appends[^1].EndPosition);
        _context.Time.Advance(_context.Options.CheckpointInterval);

        _context.Segments().Should().Equal(segments[2..], "the last segment is kept: it carries the positions on");
        spool.SegmentCount.Should().Be(1);
        spool.TotalBytes.Should().Be(new FileInfo(segments[2]).Length);

        var reopened = await _context.ReopenAsync(spool);
        var next = reopened.Append("next"u8);
        await next.Durable.WaitAsync(Deadline);
        next.Position.Should().Be(appends[^1].EndPosition);
        (await SpoolTestContext.ReadAllAsync(reopened, "s3-backup")).Select(r => r.Position).Should().Equal(next.Position);
    }

    [Test]
    public async Task DeleteConsumedSegments_CommittedButNotYetCheckpointed_KeepsTheSegment()
    {
        _context.Options.SegmentBytes = 1024;
        _context.Consumers = ["local"];
        var spool = _context.Open();
        SpoolAppendResult last = default;
        for (var i = 0; i < 4; i++)
        {
            last = spool.Append(SpoolTestContext.Payload(300, i));
            await last.Durable.WaitAsync(Deadline);
        }

        spool.Commit("local", last.EndPosition);
        spool.DeleteConsumedSegments();

        _context.Segments().Should().HaveCount(2, "a crash now would resume from the checkpoint on disk");
    }

    [Test]
    public async Task ReadAsync_NoRecords_WaitsAndWakesOnAppend()
    {
        var spool = _context.Open();
        using var reader = spool.OpenReader("postgresql");

        var read = reader.ReadAsync(10, 4096, CancellationToken.None).AsTask();
        read.IsCompleted.Should().BeFalse();

        var append = spool.Append("woken"u8);
        var batch = await read.WaitAsync(Deadline);

        batch.Records.Should().ContainSingle().Which.Payload.ToArray().Should().Equal("woken"u8.ToArray());
        batch.EndPosition.Should().Be(append.EndPosition);
        append.Durable.IsCompletedSuccessfully.Should().BeTrue("a reader only sees records on disk");
    }

    [Test]
    public async Task ReadAsync_Cancelled_Throws()
    {
        var spool = _context.Open();
        using var reader = spool.OpenReader("postgresql");
        using var cancellation = new CancellationTokenSource();

        var read = reader.ReadAsync(10, 4096, cancellation.Token).AsTask();
        await cancellation.CancelAsync();

        await FluentActions.Awaiting(() => read.WaitAsync(Deadline)).Should().ThrowAsync<OperationCanceledException>();
    }

    [Test]
    public async Task ReadAsync_Limits_ReturnAtMostMaxRecordsAndMaxBytesButAtLeastOneRecord()
    {
        var spool = _context.Open();
        var appends = Enumerable.Range(0, 5).Select(i => spool.Append(SpoolTestContext.Payload(100, i))).ToList();
        var large = spool.Append(SpoolTestContext.Payload(5000, 9));
        await Task.WhenAll(appends.Select(a => a.Durable).Append(large.Durable)).WaitAsync(Deadline);
        using var reader = spool.OpenReader("postgresql");

        (await reader.ReadAsync(2, 1 << 20, CancellationToken.None)).Count.Should().Be(2);
        (await reader.ReadAsync(100, 250, CancellationToken.None)).Count.Should().Be(2, "two 116-byte frames fit in 250 bytes");
        (await reader.ReadAsync(100, 250, CancellationToken.None)).Count.Should().Be(1);
        var alone = await reader.ReadAsync(100, 250, CancellationToken.None);

        alone.Records.Should().ContainSingle().Which.Payload.Length.Should().Be(5000);
        alone.EndPosition.Should().Be(large.EndPosition);
    }

    [Test]
    public async Task ReadAsync_Seek_ReadsFromThePositionAgain()
    {
        var spool = _context.Open();
        var first = spool.Append("first"u8);
        await spool.Append("second"u8).Durable.WaitAsync(Deadline);
        using var reader = spool.OpenReader("postgresql");
        (await reader.ReadAsync(10, 4096, CancellationToken.None)).Count.Should().Be(2);

        reader.Seek(first.EndPosition);

        (await reader.ReadAsync(10, 4096, CancellationToken.None)).Records.Should().ContainSingle()
            .Which.Payload.ToArray().Should().Equal("second"u8.ToArray());
    }

    [Test]
    public async Task ReadAsync_AfterStop_ReturnsTheRemainingRecordsThenAnEmptyBatch()
    {
        var spool = _context.Open();
        await spool.Append("last"u8).Durable.WaitAsync(Deadline);
        using var reader = spool.OpenReader("postgresql");

        await spool.StopAsync();

        (await reader.ReadAsync(10, 4096, CancellationToken.None)).Count.Should().Be(1);
        (await reader.ReadAsync(10, 4096, CancellationToken.None).AsTask().WaitAsync(Deadline)).Count.Should().Be(0);
    }

    [Test]
    public async Task GetConsumerLags_UncommittedRecords_ReportBytesAndAgeAndDegradeHealthPastMaxConsumerLag()
    {
        var spool = _context.Open();
        var append = spool.Append(new byte[84]);
        await append.Durable.WaitAsync(Deadline);
        using var age = _context.Collect<double>("evothesis.collector.spool.consumer.lag.age");

        _context.Time.Advance(TimeSpan.FromMinutes(6));
        spool.Commit("s3-client", append.EndPosition);

        var lags = spool.GetConsumerLags().ToDictionary(l => l.Consumer);
        lags["postgresql"].Bytes.Should().Be(100);
        lags["postgresql"].OldestAge.Should().Be(TimeSpan.FromMinutes(6));
        lags["s3-client"].Bytes.Should().Be(0);
        lags["s3-client"].OldestAge.Should().Be(TimeSpan.Zero);
        var health = spool.GetHealth();
        health.Status.Should().Be(HealthStatus.Degraded);
        health.Description.Should().Contain("postgresql");
        age.RecordObservableInstruments();
        age.GetMeasurementSnapshot().Should().Contain(m => m.Value == 360 && m.Tags.Contains(new KeyValuePair<string, object?>("consumer", "postgresql")));

        spool.Commit("postgresql", append.EndPosition);
        spool.GetHealth().Status.Should().Be(HealthStatus.Healthy);
    }

    [Test]
    public async Task GetConsumerLags_EventCounter_ReportsTheEventsAfterEachCursorAlsoAfterAReopen()
    {
        _context.CountEvents = SpoolEventCodec.EventCount;
        _context.Metrics.NameSink("postgresql", "PostgreSQL");
        var spool = _context.Open();
        var first = spool.Append(SpoolEventCodec.Encode(TestEvents.Many(3), audit: null));
        spool.Append([SpoolEventCodec.Encode(TestEvents.Many(2), audit: null), SpoolEventCodec.Encode(TestEvents.Many(5), audit: null)]);
        await spool.Append(SpoolEventCodec.Encode(TestEvents.Many(1), audit: null)).Durable.WaitAsync(Deadline);
        spool.Commit("postgresql", first.EndPosition);
        using var events = _context.Collect<long>("evothesis.collector.spool.consumer.lag.events");

        var lags = spool.GetConsumerLags().ToDictionary(l => l.Consumer);
        lags["postgresql"].Events.Should().Be(8);
        lags["s3-client"].Events.Should().Be(11);
        events.RecordObservableInstruments();
        events.GetMeasurementSnapshot().Should().Contain(m => m.Value == 8
            && m.Tags.Contains(new KeyValuePair<string, object?>("consumer", "postgresql"))
            && m.Tags.Contains(new KeyValuePair<string, object?>("sink", "PostgreSQL")));

        spool = await _context.ReopenAsync(spool);
        lags = spool.GetConsumerLags().ToDictionary(l => l.Consumer);
        lags["postgresql"].Events.Should().Be(8, "the counts are rebuilt from the records while the spool recovers");
        lags["s3-client"].Events.Should().Be(11);
        await spool.Append(SpoolEventCodec.Encode(TestEvents.Many(4), audit: null)).Durable.WaitAsync(Deadline);
        spool.Commit("s3-client", spool.DurablePosition);
        lags = spool.GetConsumerLags().ToDictionary(l => l.Consumer);
        lags["postgresql"].Events.Should().Be(12);
        lags["s3-client"].Events.Should().Be(0);
    }

    [Test]
    public async Task GetConsumerLags_NoEventCounter_CountsRecords()
    {
        var spool = _context.Open();
        spool.Append(new byte[10]);
        await spool.Append(new byte[20]).Durable.WaitAsync(Deadline);

        spool.GetConsumerLags().Should().OnlyContain(l => l.Events == 2);
    }

    [Test]
    public void SpoolEventIndex_TruncateAndDrop_KeepTheTotalsOfTheRecordsLeft()
    {
        var index = new SpoolEventIndex();
        for (var i = 1; i <= 3000; i++)
        {
            index.Add(i * 100, 2);
        }

        index.CountBetween(0, 300_000).Should().Be(6000);
        index.CountBetween(100, 300).Should().Be(4);
        index.TruncateAfter(200_000);
        index.CountBetween(0, 300_000).Should().Be(4000, "failed appends give their positions out again");
        index.DropThrough(150_000);
        index.Count.Should().Be(500);
        index.CountBetween(150_000, 200_000).Should().Be(1000);
        index.Add(200_050, 7);
        index.CountBetween(150_000, 200_050).Should().Be(1007);
        index.DropThrough(300_000);
        index.Count.Should().Be(0);
        index.Add(300_100, 1);
        index.CountBetween(300_000, 300_100).Should().Be(1);
    }

    [Test]
    public async Task Read_WhileAWriteMovesToANewSegment_DoesNotSkipThePreviousSegmentsLastRecords()
    {
        // One write takes two appends: the first fits the current segment, the second starts a new one. The new segment
        // is listed (header written) before the write's records count as durable; a reader looking then must wait, not
        // jump to the new segment's base past the first append.
        var files = new HoldingFileSystem();
        _context.Options.SegmentBytes = SpoolFormat.SegmentHeaderSize + 250;
        var spool = WriteAheadSpool.Open(_context.SpoolPath, _context.Options, _context.Consumers, _context.Time, _context.Metrics, _context.Logger, files);
        var first = files.Hold(SpoolFormat.SegmentFileName(0), flush: 2);
        var a = spool.Append(new byte[84]);
        await first.Entered.WaitAsync(Deadline);
        var b = spool.Append(new byte[84]);
        var c = spool.Append(new byte[84]);
        var second = files.Hold(SpoolFormat.SegmentFileName(b.EndPosition), flush: 2);
        first.Release();
        await a.Durable.WaitAsync(Deadline);
        using var reader = spool.OpenReader("postgresql");
        reader.Read(10, 4096, out _, out _).Records.Select(r => r.Position).Should().Equal(0);

        await second.Entered.WaitAsync(Deadline);
        reader.Read(10, 4096, out var more, out _).Count.Should().Be(0, "the write is not durable yet");
        reader.Position.Should().Be(a.EndPosition);
        second.Release();
        await more.WaitAsync(Deadline);
        await c.Durable.WaitAsync(Deadline);

        reader.Read(10, 4096, out _, out _).Records.Select(r => r.Position).Should().Equal(b.Position);
        reader.Read(10, 4096, out _, out _).Records.Select(r => r.Position).Should().Equal(c.Position);
        await spool.DisposeAsync();
    }

    [Test]
    public async Task DisposeAsync_CommitAfterStop_IsWritten()
    {
        var spool = _context.Open();
        var append = spool.Append("x"u8);
        await append.Durable.WaitAsync(Deadline);
        await spool.StopAsync();

        spool.Commit("postgresql", append.EndPosition);
        var reopened = await _context.ReopenAsync(spool);

        reopened.GetCommittedPosition("postgresql").Should().Be(append.EndPosition);
    }

    [Test]
    public void Open_InvalidConsumerName_Throws()
    {
        _context.Consumers = ["Bad Name"];

        var act = () => _context.Open();

        act.Should().Throw<ArgumentException>().WithMessage("*'Bad Name'*");
    }
}
