using System.Diagnostics.Metrics;
using Amazon.S3;
using Evothesis.Collector.Authorization;
using Evothesis.Collector.Batching;
using Evothesis.Collector.Batching.Internal;
using Evothesis.Collector.Diagnostics;
using Evothesis.Collector.Sinks;
using Evothesis.Collector.Sinks.ObjectStorage;
using Evothesis.Collector.Sinks.S3;
using Evothesis.Collector.Spool.Internal;
using Evothesis.Collector.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;

namespace Evothesis.Collector.Tests.Sinks.ObjectStorage;

/// <summary>
/// The collector as configured by a host with CLIENT_S3_BUCKET / BACKUP_S3_BUCKET / AWS_ENDPOINT_URL_S3, writing
/// to a real S3-protocol server (s3rver).
/// </summary>
public sealed class S3StorageTests
{
    private static readonly DateTimeOffset TenOClock = new(2026, 11, 26, 10, 15, 30, TimeSpan.Zero);

    private S3TestServer _server = null!;
    private string _clientBucket = null!;
    private string _backupBucket = null!;
    private string _vipBucket = null!;

    // A dedicated bucket that does not exist (until a test creates it).
    private string _goneBucket = null!;

    [OneTimeSetUp]
    public async Task StartServerAsync() => _server = await S3TestServer.GetSharedAsync();

    [SetUp]
    public async Task CreateBucketsAsync()
    {
        _clientBucket = await _server.CreateBucketAsync("client");
        _backupBucket = await _server.CreateBucketAsync("backup");
        _vipBucket = await _server.CreateBucketAsync("vip");
        _goneBucket = "missing-" + Guid.NewGuid().ToString("N");
    }

    [Test]
    public async Task Collect_TwoClientsOverTwoHours_WritesOneObjectPerClientPerBatchUnderHivePartitions()
    {
        await using var collector = await StartAsync(Settings(backup: false));

        await PostHourAsync(collector, "10");
        collector.Time.Advance(TimeSpan.FromHours(1));
        await PostHourAsync(collector, "11");

        var keys = await _server.ListKeysAsync(_clientBucket);
        keys.Should().HaveCount(4);
        keys.Should().AllSatisfy(k => k.Should().MatchRegex(@"^client_id=client_[ab]/date=2026-11-26/hour=1[01]/20261126T1[01]1530Z-[0-9a-f]{32}\.ndjson\.gz$"));
        keys.Where(k => k.Contains("hour=10/", StringComparison.Ordinal)).Should().HaveCount(2);
        keys.Where(k => k.StartsWith("client_id=client_a/", StringComparison.Ordinal)).Should().HaveCount(2);

        var store = new S3ObjectStore(_server.CreateClient(), _clientBucket);
        foreach (var key in keys)
        {
            var (client, hour) = (key.Contains("client_a", StringComparison.Ordinal) ? "a" : "b", key.Contains("hour=10", StringComparison.Ordinal) ? "10" : "11");
            var events = await store.ReadEventsAsync(key);
            var e = events.Should().ContainSingle().Subject;
            e.EventId.Should().Be($"{client}-{hour}");
            e.ClientId.Should().Be("client_" + client);
            e.SiteId.Should().Be(client + ".example");
            e.PageData.ToString().Should().Be($$"""{"url":"https://{{client}}.example/p","title":"Page {{hour}} ✓"}""");
            e.ReceivedAt.Hour.Should().Be(int.Parse(hour, System.Globalization.CultureInfo.InvariantCulture));

            var (_, response) = await _server.DownloadAsync(_clientBucket, key);
            response.Headers.ContentType.Should().Be("application/x-ndjson");
            response.Headers.ContentEncoding.Should().Be("gzip");
            response.Metadata[ObjectStorageEventSink.EventCountMetadataKey].Should().Be("1");
        }
    }

    [Test]
    public async Task Collect_BackupBucket_ReceivesAFullCopyOfEveryBatchInTheSameLayout()
    {
        var settings = Settings(backup: true);
        settings["Evothesis:S3:BackupPrefix"] = "collector/backup";
        await using var collector = await StartAsync(settings);

        await PostHourAsync(collector, "10");

        // The backup writes after the answer: an hour passing on the test's clock would time its write out.
        await Deliveries.AllSinksAsync(collector.Services);
        collector.Time.Advance(TimeSpan.FromHours(1));
        await PostHourAsync(collector, "11");
        await Deliveries.AllSinksAsync(collector.Services);

        // The backup bucket is its own spool consumer: its batches may be cut elsewhere than the client bucket's, so the
        // same events, in the same layout under the backup prefix, not necessarily the same keys.
        var clientKeys = await _server.ListKeysAsync(_clientBucket);
        var backupKeys = await _server.ListKeysAsync(_backupBucket);
        backupKeys.Should().OnlyContain(k => k.StartsWith("collector/backup/client_id=client_", StringComparison.Ordinal));
        var clientStore = new S3ObjectStore(_server.CreateClient(), _clientBucket);
        var backupStore = new S3ObjectStore(_server.CreateClient(), _backupBucket);
        var original = new List<Evothesis.Collector.Events.CollectedEvent>();
        foreach (var key in clientKeys)
        {
            original.AddRange(await clientStore.ReadEventsAsync(key));
        }

        var copy = new List<Evothesis.Collector.Events.CollectedEvent>();
        foreach (var key in backupKeys)
        {
            copy.AddRange(await backupStore.ReadEventsAsync(key));
        }

        original.Should().HaveCount(4);
        copy.Select(e => e.Id).Should().BeEquivalentTo(original.Select(e => e.Id));
        foreach (var e in copy)
        {
            e.ShouldEqualStored(original.Single(o => o.Id == e.Id));
        }
    }

    [Test]
    public async Task Collect_ClientWithDedicatedBucket_WritesItsObjectsThereAndStillBacksThemUp()
    {
        await using var collector = await StartAsync(Settings(backup: true));

        var responses = await collector.PostTogetherAsync(("vip.example", Event("vip-1", "vip")), ("a.example", Event("a-1", "a")));

        responses.Should().OnlyContain(r => r.StatusCode == 202);
        (await _server.ListKeysAsync(_vipBucket)).Should().ContainSingle().Which.Should().StartWith("client_id=client_vip/");
        (await _server.ListKeysAsync(_clientBucket)).Should().ContainSingle().Which.Should().StartWith("client_id=client_a/");
        (await _server.ListKeysAsync(_backupBucket)).Should().HaveCount(2);
    }

    [Test]
    public async Task Collect_ObjectMaxAge_EventsWaitForCompanyUntilTheOldestIsThatOld_ThenShareOneObject()
    {
        await using var collector = await StartAsync(Closing(maxBytes: "16777216", maxAge: "00:00:30"));
        var consumer = collector.GetRequiredService<EventBatcher>().Consumers[0];

        await collector.PostAsync("a.example", Event("a-1", "a"));
        collector.Time.Advance(TimeSpan.FromSeconds(20));
        await collector.PostAsync("a.example", Event("a-2", "a"));
        await collector.PostAsync("a.example", Event("a-3", "a"));
        await WaitUntilWaitingAsync(collector, consumer);
        collector.Time.Advance(TimeSpan.FromSeconds(9));
        await WaitUntilWaitingAsync(collector, consumer);

        (await _server.ListKeysAsync(_clientBucket)).Should().BeEmpty("the first event is 29 s old");

        collector.Time.Advance(TimeSpan.FromSeconds(1));
        await WaitForKeysAsync(_clientBucket, 1);

        var key = (await _server.ListKeysAsync(_clientBucket)).Should().ContainSingle().Subject;
        key.Should().Contain("/20261126T101530Z-", "the object is named after its first event's time");
        (await EventIdsAsync(_clientBucket)).Should().Equal("a-1", "a-2", "a-3");
    }

    [Test]
    public async Task Collect_ObjectMaxBytes_AFullObjectIsWrittenAtOnceAndTheRestWaitsForItsAge()
    {
        await using var collector = await StartAsync(Closing(maxBytes: "2048", maxAge: "01:00:00"));
        var consumer = collector.GetRequiredService<EventBatcher>().Consumers[0];

        // Each request takes about 170 bytes in the spool: several objects' worth, and a tail.
        var posted = new List<string>();
        for (var i = 0; i < 40; i++)
        {
            await collector.PostAsync("a.example", Event($"a-{i}", "a"));
            posted.Add($"a-{i}");
        }

        await WaitUntilWaitingAsync(collector, consumer);
        var early = await EventIdsAsync(_clientBucket);
        var objects = (await _server.ListKeysAsync(_clientBucket)).Count;

        collector.Time.Advance(TimeSpan.FromHours(1));
        await Eventually.True(() => consumer.Committed >= collector.GetRequiredService<EventBatcher>().Spool.DurablePosition);

        TestContext.Out.WriteLine($"written before the age: {objects} objects, {early.Count} of {posted.Count} events");
        objects.Should().BeGreaterThan(1, "full objects are written without waiting for the age");
        early.Should().NotBeEmpty().And.HaveCountLessThan(posted.Count, "the events of an object not yet full wait for its age")
            .And.Equal(posted.Take(early.Count), "objects are closed in spool order");
        (await EventIdsAsync(_clientBucket)).Should().Equal(posted);
    }

    [Test]
    public async Task Collect_DedicatedBucketMissing_ItsRequestIsParkedAfterBoundedAttemptsWhileTheOthersAreDelivered()
    {
        // Nothing is down: the S3 client only counts the requests to each bucket.
        var counter = new S3BucketOutage();
        var settings = Settings(backup: true);
        settings["Evothesis:Batching:AckMode"] = "Durable";

        // The test's clock runs the retries' backoff: no write may time out on it meanwhile.
        settings["Evothesis:Batching:SinkTimeout"] = "01:00:00";
        await using var collector = await StartAsync(settings, services: s => s.AddSingleton<IAmazonS3>(counter.CreateClient(_server)));
        using var parkedEvents = new MetricCollector<long>(collector.GetRequiredService<IMeterFactory>(), CollectorMetrics.MeterName, "evothesis.collector.sink.parked.events");
        var consumer = collector.GetRequiredService<EventBatcher>().Consumers[0];
        var others = await collector.PostTogetherAsync(("a.example", Event("a-1", "a")), ("b.example", Event("b-1", "b")));
        await WaitForKeysAsync(_clientBucket, 2);

        // The broken client's request, then another client's behind it in the spool.
        var gone = await collector.PostAsync("gone.example", Event("gone-1", "gone"));
        var after = await collector.PostAsync("a.example", Event("a-2", "a"));

        others.Select(r => r.StatusCode).Should().Equal([202, 202]);
        gone.StatusCode.Should().Be(202, "the events are in the spool; a broken bucket is the sink's problem");
        after.StatusCode.Should().Be(202);
        var failure = await LogAsync(collector, 1308);
        var refused = failure.Exception.Should().BeOfType<ClientWriteException>().Subject;
        refused.IsPermanent.Should().BeTrue();
        refused.FailedClientIds.Should().BeEquivalentTo(["client_gone"]);
        refused.InnerException.Should().BeOfType<ObjectStoreException>().Which.Error.Should().Be(ObjectStoreError.BucketNotFound);

        // The retries' backoff runs on the test's clock.
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while ((consumer.Parking!.Count().Records == 0 || (await _server.ListKeysAsync(_clientBucket)).Count < 3) && DateTime.UtcNow < deadline)
        {
            collector.Time.Advance(TimeSpan.FromSeconds(1));
            await Task.Delay(20);
        }

        (await EventIdsAsync(_clientBucket)).Should().BeEquivalentTo(["a-1", "b-1", "a-2"], "the request behind the broken one is delivered once it is parked");
        await Deliveries.AllSinksAsync(collector.Services);
        (await EventIdsAsync(_backupBucket)).Should().BeEquivalentTo(["a-1", "b-1", "gone-1", "a-2"], "the backup bucket takes every client");
        consumer.Parking.Count().Should().Be(new ParkedCount(1, 1, 1));
        ParkedRecordFile.ReadInfo(consumer.Parking.List().Single()).ClientIds.Should().Equal("client_gone");
        parkedEvents.GetMeasurementSnapshot().Should().ContainSingle().Which.Tags["reason"].Should().Be("client_failed");
        await Eventually.True(() => !consumer.IsFailing);

        // Bounded: ParkAfterAttempts puts, and none once parked however long the clock runs.
        var attempts = counter.Requests(_goneBucket);
        collector.Time.Advance(TimeSpan.FromMinutes(10));
        await Task.Delay(100);
        attempts.Should().Be(new BatchingOptions().ParkAfterAttempts);
        counter.Requests(_goneBucket).Should().Be(attempts);

        // Fixed: the bucket exists. The replay writes the parked events there, under the key of the batch they were
        // refused in, and deletes the parked file; a second replay finds nothing.
        using (var s3 = _server.CreateClient())
        {
            await s3.PutBucketAsync(_goneBucket);
        }

        var replayed = await ParkedEventReplay.ReplayAsync(collector.Services);
        var again = await ParkedEventReplay.ReplayAsync(collector.Services);

        replayed.Failures.Should().BeEmpty();
        (replayed.Files, replayed.Events).Should().Be((1, 1L));
        (await EventIdsAsync(_goneBucket)).Should().Equal("gone-1");
        (await _server.ListKeysAsync(_goneBucket)).Should().ContainSingle().Which.Should().StartWith("client_id=client_gone/");
        consumer.Parking.List().Should().BeEmpty();
        again.Files.Should().Be(0);
    }

    [TestCase(true, TestName = "Collect_ClientBucketDown_TheBackupBucketStillGetsEveryEventAndTheClientBucketCatchesUp")]
    [TestCase(false, TestName = "Collect_BackupBucketDown_TheClientBucketStillGetsEveryEventAndTheBackupBucketCatchesUp")]
    public async Task Collect_OneBucketDown_TheOtherStillGetsEveryEventAndTheDownOneCatchesUp(bool clientBucketDown)
    {
        var outage = new S3BucketOutage();
        var settings = Settings(backup: true);
        settings["Evothesis:Batching:AckMode"] = "Durable";

        // The test's clock runs the retries' backoff: no write may time out on it meanwhile.
        settings["Evothesis:Batching:SinkTimeout"] = "01:00:00";
        await using var collector = await StartAsync(settings, services: s => s.AddSingleton<IAmazonS3>(outage.CreateClient(_server)));
        var (down, up) = clientBucketDown ? (_clientBucket, _backupBucket) : (_backupBucket, _clientBucket);
        var downConsumer = collector.GetRequiredService<EventBatcher>().Consumers[clientBucketDown ? 0 : 1];
        outage.Down(down);

        var responses = await collector.PostTogetherAsync(("a.example", Event("a-1", "a")), ("b.example", Event("b-1", "b")));

        responses.Should().OnlyContain(r => r.StatusCode == 202, "the events are in the spool");
        await WaitForKeysAsync(up, 2);
        await Eventually.True(() => downConsumer.IsFailing);
        (await _server.ListKeysAsync(down)).Should().BeEmpty();
        outage.Refused.Should().BeGreaterThan(0);

        // Back up: the next retry (after its backoff, on the test's clock) delivers what waited in the spool.
        outage.Up(down);
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while ((await _server.ListKeysAsync(down)).Count < 2 && DateTime.UtcNow < deadline)
        {
            collector.Time.Advance(TimeSpan.FromSeconds(5));
            await Task.Delay(20);
        }

        (await EventIdsAsync(down)).Should().BeEquivalentTo(await EventIdsAsync(up)).And.BeEquivalentTo(["a-1", "b-1"]);
        await Eventually.True(() => !downConsumer.IsFailing);
    }

    // Answered from the spool, objects closed by the given limits, no write timed out by the test's clock.
    private Dictionary<string, string?> Closing(string maxBytes, string maxAge)
    {
        var settings = Settings(backup: false);
        settings["Evothesis:Batching:AckMode"] = "Durable";
        settings["Evothesis:Batching:SinkTimeout"] = "01:00:00";
        settings["Evothesis:S3:ObjectMaxBytes"] = maxBytes;
        settings["Evothesis:S3:ObjectMaxAge"] = maxAge;
        return settings;
    }

    // Until the consumer has read every spooled record and sleeps (a batch waits for its age, or nothing is left).
    private static Task WaitUntilWaitingAsync(ConfiguredCollector collector, SpoolConsumer consumer)
    {
        var spool = collector.GetRequiredService<EventBatcher>().Spool;
        return Eventually.True(() => consumer.SleepingAt >= spool.DurablePosition && !consumer.IsFailing);
    }

    private async Task<List<string?>> EventIdsAsync(string bucket)
    {
        var store = new S3ObjectStore(_server.CreateClient(), bucket);
        var ids = new List<string?>();
        foreach (var key in await _server.ListKeysAsync(bucket))
        {
            ids.AddRange((await store.ReadEventsAsync(key)).Select(e => e.EventId));
        }

        return ids;
    }

    private async Task WaitForKeysAsync(string bucket, int count)
    {
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while ((await _server.ListKeysAsync(bucket)).Count < count)
        {
            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail($"{bucket} did not get {count} objects in time.");
            }

            await Task.Delay(20);
        }
    }

    [Test]
    public async Task Collect_ClientBucketMissing_AcknowledgesFromTheSpoolAndParksEachBatchAsOneAfterBoundedAttempts()
    {
        var settings = Settings(backup: false);
        settings["CLIENT_S3_BUCKET"] = "missing-" + Guid.NewGuid().ToString("N")[..12];
        settings["Evothesis:Batching:AckMode"] = "Durable";
        settings["Evothesis:Batching:SinkTimeout"] = "01:00:00";

        // Both requests in one batch: it is cut by age, on the test's clock, once both are in the spool.
        settings["Evothesis:S3:ObjectMaxAge"] = "00:00:30";
        await using var collector = await StartAsync(settings);
        var consumer = collector.GetRequiredService<EventBatcher>().Consumers[0];

        var responses = await collector.PostTogetherAsync(("a.example", Event("a-1", "a")), ("b.example", Event("b-1", "b")));

        responses.Should().OnlyContain(r => r.StatusCode == 202);
        collector.Time.Advance(TimeSpan.FromSeconds(30));
        var failure = await LogAsync(collector, 1308);
        var refused = failure.Exception.Should().BeOfType<ClientWriteException>("a missing bucket is a refusal for good, not an outage").Subject;
        refused.IsPermanent.Should().BeTrue();
        refused.FailedClientIds.Should().BeEquivalentTo(["client_a", "client_b"], "the bucket refuses every client of the batch");
        refused.InnerException.Should().BeOfType<ObjectStoreException>().Which.Error.Should().Be(ObjectStoreError.BucketNotFound);
        refused.InnerException!.Message.Should().Contain(settings["CLIENT_S3_BUCKET"]).And.Contain("does not exist");
        consumer.IsFailing.Should().BeTrue();

        // The retries' backoff runs on the test's clock: after ParkAfterAttempts the batch is parked whole, in one file,
        // without first trying each request alone (every one would be refused alike).
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (consumer.Parking!.Count().Records < 2 && DateTime.UtcNow < deadline)
        {
            collector.Time.Advance(TimeSpan.FromSeconds(1));
            await Task.Delay(20);
        }

        consumer.Parking.Count().Should().Be(new ParkedCount(1, 2, 2));
        collector.Logs.GetSnapshot().Should().NotContain(r => r.Id.Id == 1312, "no request-by-request delivery");
        await Eventually.True(() => !consumer.IsFailing);
    }

    [Test]
    public async Task Collect_CredentialsRefused_AcknowledgesFromTheSpoolAndLogsAccessDenied()
    {
        var settings = Settings(backup: false);
        settings["AWS_ACCESS_KEY_ID"] = "UNKNOWN-KEY";
        settings["Evothesis:Batching:AckMode"] = "Durable";
        await using var collector = await StartAsync(settings);

        var responses = await collector.PostTogetherAsync(("a.example", Event("a-1", "a")), ("b.example", Event("b-1", "b")));

        responses.Should().OnlyContain(r => r.StatusCode == 202);
        var refused = (await LogAsync(collector, 1308)).Exception.Should().BeOfType<ClientWriteException>().Subject;
        refused.IsPermanent.Should().BeTrue("refused credentials are fixed by someone, not by retrying");
        refused.InnerException.Should().BeOfType<ObjectStoreException>().Which.Error.Should().Be(ObjectStoreError.AccessDenied);
        (await _server.ListKeysAsync(_clientBucket)).Should().BeEmpty();
    }

    // Files under the storage folder, as keys, leaving out the write-ahead spool (the collector's working state).
    private static List<string> StoredFiles(ConfiguredCollector collector) =>
        Directory.EnumerateFiles(collector.DataPath, "*", SearchOption.AllDirectories)
            .Select(f => Path.GetRelativePath(collector.DataPath, f).Replace('\\', '/'))
            .Where(k => !k.StartsWith(Evothesis.Collector.Spool.SpoolOptions.DefaultFolderName + "/", StringComparison.Ordinal))
            .Order(StringComparer.Ordinal)
            .ToList();

    private static async Task<Microsoft.Extensions.Logging.Testing.FakeLogRecord> LogAsync(ConfiguredCollector collector, int eventId)
    {
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (true)
        {
            var record = collector.Logs.GetSnapshot().FirstOrDefault(r => r.Id.Id == eventId);
            if (record is not null)
            {
                return record;
            }

            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail($"No log record {eventId} in time.");
            }

            await Task.Delay(20);
        }
    }

    [Test]
    public async Task WriteAsync_SameBatchTwice_LeavesOneObjectPerClientUnderTheSameKeys()
    {
        await using var collector = await StartAsync(Settings(backup: true));
        var sinks = collector.GetRequiredService<SinkSet>().Sinks;
        var batch = StoredEvents.Batch(TenOClock, StoredEvents.Create("client_a"), StoredEvents.Create("client_b"));

        foreach (var sink in sinks)
        {
            await sink.WriteAsync(batch, CancellationToken.None);
        }

        var first = await _server.ListKeysAsync(_clientBucket);
        foreach (var sink in sinks)
        {
            await sink.WriteAsync(batch, CancellationToken.None);
        }

        (await _server.ListKeysAsync(_clientBucket)).Should().Equal(first).And.HaveCount(2);
        (await _server.ListKeysAsync(_backupBucket)).Should().Equal(first);
        first.Should().OnlyContain(k => k.Contains(batch.Id.ToString("N"), StringComparison.Ordinal));
    }

    [Test]
    public async Task AddEvothesisCollector_ClientBucketSet_WritesToS3AndBackupInsteadOfTheLocalFolder()
    {
        await using var collector = await StartAsync(Settings(backup: true));

        collector.GetRequiredService<SinkSet>().Sinks.Select(s => s.Name).Should().Equal($"s3:{_clientBucket}", $"backup:s3:{_backupBucket}");
        await PostHourAsync(collector, "10");

        StoredFiles(collector).Should().BeEmpty("with buckets, only the write-ahead spool is on the local disk");
    }

    [Test]
    public async Task AddEvothesisCollector_NothingSet_WritesTheSameLayoutToTheLocalFolder()
    {
        await using var collector = await ConfiguredCollector.StartAsync(new Dictionary<string, string?>(), Clients(), TenOClock);

        collector.GetRequiredService<SinkSet>().Sinks.Should().ContainSingle().Which.Name.Should().StartWith("local:");
        await PostHourAsync(collector, "10");

        var keys = StoredFiles(collector);
        keys.Should().HaveCount(2).And.AllSatisfy(k => k.Should().MatchRegex(@"^client_id=client_[ab]/date=2026-11-26/hour=10/20261126T101530Z-[0-9a-f]{32}\.ndjson\.gz$"));
        var events = await collector.GetRequiredService<CollectorObjectStores>().LocalFolder.ReadEventsAsync(keys[0]);
        events.Should().ContainSingle().Which.EventId.Should().Be("a-10");
    }

    [Test]
    public async Task AddEvothesisCollector_S3ClientRegisteredByTheHost_IsUsedWithChunkEncodingOff()
    {
        var settings = new Dictionary<string, string?> { ["Evothesis:S3:ClientBucket"] = _clientBucket };
        await using var collector = await StartAsync(settings, services: s => s.AddSingleton<IAmazonS3>(_server.CreateClient()));

        await PostHourAsync(collector, "10");

        var keys = await _server.ListKeysAsync(_clientBucket);
        keys.Should().HaveCount(2);
        var store = (S3ObjectStore)collector.GetRequiredService<CollectorObjectStores>().ClientBucket!;
        store.UsesChunkEncoding.Should().BeFalse();
        (await store.ReadEventsAsync(keys[0])).Should().ContainSingle();
    }

    private static async Task PostHourAsync(ConfiguredCollector collector, string hour)
    {
        var responses = await collector.PostTogetherAsync(("a.example", Event($"a-{hour}", "a", hour)), ("b.example", Event($"b-{hour}", "b", hour)));
        responses.Should().OnlyContain(r => r.StatusCode == 202);
    }

    private static string Event(string eventId, string client, string hour = "10") =>
        $$$"""{"eventType":"pageview","eventId":"{{{eventId}}}","sessionId":"s1","page_data":{"url":"https://{{{client}}}.example/p","title":"Page {{{hour}}} ✓"}}""";

    private Dictionary<string, string?> Settings(bool backup) =>
        _server.Settings(_clientBucket, backup ? _backupBucket : null);

    private Dictionary<string, ClientConfig> Clients() => new()
    {
        ["a.example"] = new ClientConfig { ClientId = "client_a" },
        ["b.example"] = new ClientConfig { ClientId = "client_b" },
        ["vip.example"] = new ClientConfig { ClientId = "client_vip", S3Bucket = _vipBucket },
        ["gone.example"] = new ClientConfig { ClientId = "client_gone", S3Bucket = _goneBucket },
    };

    private Task<ConfiguredCollector> StartAsync(Dictionary<string, string?> settings, Action<IServiceCollection>? services = null) =>
        ConfiguredCollector.StartAsync(settings, Clients(), TenOClock, services: services);
}
