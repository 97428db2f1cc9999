using System.Text;
using Evothesis.Collector.Events;
using Evothesis.Collector.Sinks.ObjectStorage;
using Evothesis.Collector.Sinks.S3;
using Evothesis.Collector.Tests.Support;

namespace Evothesis.Collector.Tests.Sinks.ObjectStorage;

/// <summary>Replay from a bucket written by the collector (s3rver) into real sinks.</summary>
public sealed class ObjectStorageReplayTests
{
    private static readonly DateTimeOffset Day1 = new(2026, 11, 26, 22, 10, 0, TimeSpan.Zero);

    private S3TestServer _server = null!;
    private S3ObjectStore _backup = null!;
    private string _root = null!;
    private List<EventBatch> _written = null!;

    [OneTimeSetUp]
    public async Task StartServerAsync() => _server = await S3TestServer.GetSharedAsync();

    [SetUp]
    public async Task WriteBackupAsync()
    {
        _root = Directory.CreateTempSubdirectory("evothesis-replay-").FullName;
        _backup = new S3ObjectStore(_server.CreateClient(), await _server.CreateBucketAsync("backup"));

        // Three hours across midnight, two clients, batches holding both: what the backup sink writes.
        var sink = new ObjectStorageEventSink(_backup, "backup");
        _written = [];
        for (var hour = 0; hour < 3; hour++)
        {
            var at = Day1.AddHours(hour);
            var batch = StoredEvents.Batch(
                at,
                StoredEvents.Create("client_a", at),
                StoredEvents.Create("client_b", at),
                StoredEvents.Create("client_a", at.AddSeconds(1), eventType: "purchase"));
            await sink.WriteAsync(batch, CancellationToken.None);
            _written.Add(batch);
        }
    }

    [TearDown]
    public void TearDown() => Directory.Delete(_root, recursive: true);

    [Test]
    public async Task ReplayAsync_IntoAnObjectSink_ReproducesTheObjectsAndIsIdempotent()
    {
        var target = new LocalFolderObjectStore(_root);
        var sink = new ObjectStorageEventSink(target, "backup");

        var first = await ObjectStorageReplay.ReplayAsync(_backup, sink, new ObjectReplayOptions { Prefix = "backup" });
        var keysAfterFirst = await target.ListKeysAsync();
        var bytesAfterFirst = keysAfterFirst.Select(k => File.ReadAllBytes(target.GetPath(k))).ToList();
        var second = await ObjectStorageReplay.ReplayAsync(_backup, sink, new ObjectReplayOptions { Prefix = "backup" });

        first.Objects.Should().Be(6);
        first.Events.Should().Be(9);
        second.Objects.Should().Be(6);
        keysAfterFirst.Should().Equal(await _backup.ListKeysAsync(), "a replayed batch lands under its original key");
        (await target.ListKeysAsync()).Should().Equal(keysAfterFirst, "replaying again adds nothing");
        keysAfterFirst.Select(k => File.ReadAllBytes(target.GetPath(k))).Should().BeEquivalentTo(bytesAfterFirst, o => o.WithStrictOrdering());
        foreach (var key in keysAfterFirst)
        {
            var replayed = await target.ReadEventsAsync(key);
            var original = await _backup.ReadEventsAsync(key);
            replayed.Should().HaveSameCount(original);
            for (var i = 0; i < original.Count; i++)
            {
                replayed[i].ShouldEqualStored(original[i]);
            }
        }
    }

    [Test]
    public async Task ReplayAsync_IntoASink_WritesOneBatchPerObjectWithTheOriginalIdsAndEvents()
    {
        var sink = new InMemoryEventSink();

        await ObjectStorageReplay.ReplayAsync(_backup, sink, new ObjectReplayOptions { Prefix = "backup" });

        sink.Batches.Should().HaveCount(6);
        sink.Batches.Select(b => b.Id).Distinct().Should().BeEquivalentTo(_written.Select(b => b.Id));
        sink.Batches.Should().OnlyContain(b => b.Events.Select(e => e.ClientId).Distinct().Count() == 1);
        var replayed = sink.Events.ToDictionary(e => e.Id);
        foreach (var original in _written.SelectMany(b => b.Events))
        {
            replayed[original.Id].ShouldEqualStored(original);
        }

        // Client by client, in time order within a client.
        sink.Batches.Select(b => (b.Events[0].ClientId, b.CreatedAt)).Should().BeInAscendingOrder();
    }

    [Test]
    public async Task ReplayAsync_DateRangeAcrossMidnight_ReplaysOnlyObjectsInTheRange()
    {
        var sink = new InMemoryEventSink();

        var result = await ObjectStorageReplay.ReplayAsync(
            _backup,
            sink,
            new ObjectReplayOptions { Prefix = "backup", From = Day1.AddHours(1), To = Day1.AddHours(2).AddMinutes(-5) });

        result.Objects.Should().Be(2);
        sink.Batches.Should().OnlyContain(b => b.Id == _written[1].Id);
        sink.Batches[0].CreatedAt.Should().Be(new DateTimeOffset(2026, 11, 26, 23, 10, 0, TimeSpan.Zero));
    }

    [Test]
    public async Task ReplayAsync_ClientFilter_ReplaysOnlyThoseClients()
    {
        var sink = new InMemoryEventSink();
        var options = new ObjectReplayOptions { Prefix = "backup", From = Day1.AddHours(2) };
        options.ClientIds.Add("client_b");

        var result = await ObjectStorageReplay.ReplayAsync(_backup, sink, options);

        result.Objects.Should().Be(1);
        sink.Events.Should().ContainSingle().Which.ClientId.Should().Be("client_b");
        sink.Batches[0].CreatedAt.Date.Should().Be(new DateTime(2026, 11, 27));
    }

    [Test]
    public async Task ReplayAsync_ObjectsOutsideTheLayout_AreSkippedAndCounted()
    {
        await PutAsync("backup/client_id=client_a/README.txt", "not events"u8.ToArray());
        var sink = new InMemoryEventSink();

        var result = await ObjectStorageReplay.ReplayAsync(_backup, sink, new ObjectReplayOptions { Prefix = "backup" });

        result.ForeignObjects.Should().Be(1);
        result.Objects.Should().Be(6);
    }

    [Test]
    public async Task ReplayAsync_CorruptObject_StopsNamingItsKeyAndKeepsWhatWasWritten()
    {
        // Sorts before client_b's first real object.
        var corrupt = $"backup/client_id=client_b/date=2026-11-26/hour=22/20261126T221000Z-{Guid.Empty:N}.ndjson.gz";
        await PutAsync(corrupt, Encoding.UTF8.GetBytes("this is not gzip"));
        var sink = new InMemoryEventSink();

        var act = () => ObjectStorageReplay.ReplayAsync(_backup, sink, new ObjectReplayOptions { Prefix = "backup" });

        (await act.Should().ThrowAsync<InvalidDataException>()).WithMessage($"*'{corrupt}'*");
        sink.Batches.Select(b => b.Events[0].ClientId).Should().Equal(["client_a", "client_a", "client_a"], "client_a's objects come first and were written");
    }

    [Test]
    public async Task ReplayAsync_CorruptObjectWithSkipInvalid_ListsItAndReplaysTheRest()
    {
        var corrupt = $"backup/client_id=client_b/date=2026-11-26/hour=22/20261126T221000Z-{Guid.CreateVersion7():N}.ndjson.gz";
        await PutAsync(corrupt, Encoding.UTF8.GetBytes("this is not gzip"));
        var sink = new InMemoryEventSink();

        var result = await ObjectStorageReplay.ReplayAsync(_backup, sink, new ObjectReplayOptions { Prefix = "backup", SkipInvalidObjects = true });

        result.InvalidObjects.Should().Equal(corrupt);
        result.Objects.Should().Be(6);
        sink.Events.Should().HaveCount(9);
    }

    [Test]
    public async Task ReplayAsync_DryRun_CountsWithoutWriting()
    {
        var sink = new InMemoryEventSink();

        var result = await ObjectStorageReplay.ReplayAsync(_backup, sink, new ObjectReplayOptions { Prefix = "backup", DryRun = true });

        result.Objects.Should().Be(6);
        result.Events.Should().Be(9);
        sink.Batches.Should().BeEmpty();
    }

    [Test]
    public async Task ReplayAsync_TargetFailsThenRecovers_StopsAndAReplayAgainCompletesWithoutDuplicates()
    {
        var target = new LocalFolderObjectStore(_root);
        var sink = new ObjectStorageEventSink(target, "backup");
        var failing = new ThrowingEventSink();

        var act = () => ObjectStorageReplay.ReplayAsync(_backup, failing, new ObjectReplayOptions { Prefix = "backup", MaxConcurrentReads = 3 });
        await act.Should().ThrowAsync<IOException>();
        failing.Attempts.Should().Be(1, "the replay stops at the first failed write");

        var result = await ObjectStorageReplay.ReplayAsync(_backup, sink, new ObjectReplayOptions { Prefix = "backup", MaxConcurrentReads = 3 });

        result.Objects.Should().Be(6);
        (await target.ListKeysAsync()).Should().Equal(await _backup.ListKeysAsync());
    }

    [Test]
    public async Task ReplayAsync_RangeEndingBeforeItStarts_IsRefused()
    {
        var act = () => ObjectStorageReplay.ReplayAsync(_backup, new InMemoryEventSink(), new ObjectReplayOptions { From = Day1, To = Day1 });

        await act.Should().ThrowAsync<ArgumentException>();
    }

    private async Task PutAsync(string key, byte[] content)
    {
        using var stream = new MemoryStream(content);
        await _backup.PutAsync(new ObjectPutRequest { Key = key, Content = stream, Length = content.Length, ContentType = "application/octet-stream" }, CancellationToken.None);
    }
}
