using System.Net;
using Evothesis.Collector.Sinks.S3;
using Evothesis.Collector.Tests.Support;

namespace Evothesis.Collector.Tests.Sample;

/// <summary>
/// The sample host with CLIENT_S3_BUCKET, BACKUP_S3_BUCKET and AWS_ENDPOINT_URL_S3 set (against s3rver), and with
/// nothing set: the README's curl events land in the same layout either way.
/// </summary>
public sealed class SampleHostObjectStorageTests
{
    // The README's curl examples, as written.
    public const string SeedSingleEvent = """
        {
            "eventType": "pageview",
            "sessionId": "test_session",
            "visitorId": "test_visitor",
            "siteId": "localhost",
            "url": "http://localhost/test"
          }
        """;

    public const string SeedBatch = """
        {
            "eventType": "batch",
            "sessionId": "test_session",
            "siteId": "localhost",
            "events": [
              {"eventType": "click", "eventData": {"element": "test1"}},
              {"eventType": "scroll", "eventData": {"depth": 50}}
            ]
          }
        """;

    private const string LayoutPattern = @"^client_id=client_test/date=\d{4}-\d{2}-\d{2}/hour=\d{2}/\d{8}T\d{6}Z-[0-9a-f]{32}\.ndjson\.gz$";

    private S3TestServer _server = null!;

    [OneTimeSetUp]
    public async Task StartServerAsync() => _server = await S3TestServer.GetSharedAsync();

    [Test]
    public async Task SeedEvents_BucketsConfigured_LandInTheClientAndBackupBucketsInTheLayout()
    {
        var clientBucket = await _server.CreateBucketAsync("client");
        var backupBucket = await _server.CreateBucketAsync("backup");
        using var app = WithS3(new CollectorApplication(), _server, clientBucket, backupBucket);

        (await app.PostAsync(SeedSingleEvent)).StatusCode.Should().Be(HttpStatusCode.Accepted);
        (await app.PostAsync(SeedBatch)).StatusCode.Should().Be(HttpStatusCode.Accepted);
        await Deliveries.AllSinksAsync(app.Services);

        var clientKeys = await _server.ListKeysAsync(clientBucket);
        clientKeys.Should().HaveCount(2).And.AllSatisfy(k => k.Should().MatchRegex(LayoutPattern));
        (await _server.ListKeysAsync(backupBucket)).Should().Equal(clientKeys);

        var store = new S3ObjectStore(_server.CreateClient(), clientBucket);
        var events = new List<Evothesis.Collector.Events.CollectedEvent>();
        foreach (var key in clientKeys)
        {
            events.AddRange(await store.ReadEventsAsync(key));
        }

        events.Select(e => e.EventType).Should().BeEquivalentTo("pageview", "click", "scroll");
        events.Should().OnlyContain(e => e.ClientId == "client_test" && e.SiteId == "localhost" && e.SessionId == "test_session");
        events.Single(e => e.EventType == "pageview").CustomData.ToJsonElement().GetProperty("visitorId").GetString().Should().Be("test_visitor");
        app.Storage.Files().Should().BeEmpty("with a client bucket the local folder is not written");
    }

    [Test]
    public async Task SeedEvents_NothingConfigured_LandInTheLocalFolderInTheSameLayout()
    {
        using var app = new CollectorApplication();

        (await app.PostAsync(SeedSingleEvent)).StatusCode.Should().Be(HttpStatusCode.Accepted);
        (await app.PostAsync(SeedBatch)).StatusCode.Should().Be(HttpStatusCode.Accepted);

        var keys = app.Storage.Files().Select(f => Path.GetRelativePath(app.Storage.Path, f).Replace('\\', '/')).ToList();
        keys.Should().HaveCount(2).And.AllSatisfy(k => k.Should().MatchRegex(LayoutPattern));
    }

    [Test]
    public async Task SeedEvents_ClientBucketMissing_AreAcknowledgedFromTheSpoolAndHealthTurnsDegraded()
    {
        using var app = WithS3(new CollectorApplication(), _server, "missing-" + Guid.NewGuid().ToString("N")[..12], backupBucket: null)
            .WithSetting("Evothesis:Batching:AckMode", "Durable");

        var response = await app.PostAsync(SeedSingleEvent);

        response.StatusCode.Should().Be(HttpStatusCode.Accepted, "the events wait in the spool until the bucket exists");
        var deadline = DateTime.UtcNow.AddSeconds(15);
        string health;
        do
        {
            health = await (await app.CreateClient().GetAsync("/health")).Content.ReadAsStringAsync();
        }
        while (health != "Degraded" && DateTime.UtcNow < deadline && await Task.Delay(20).ContinueWith(_ => true));

        health.Should().Be("Degraded");
    }

    [TestCase(null, "")]
    [TestCase("/collector/events/", "collector/events/")]
    public async Task HipaaEvents_ClientBucketConfigured_LeaveTheirAuditRecordsInTheClientBucket(string? prefix, string keyStart)
    {
        var clientBucket = await _server.CreateBucketAsync("client");
        using var app = WithS3(new CollectorApplication(), _server, clientBucket, backupBucket: null).WithSetting("Evothesis:S3:Prefix", prefix);

        var response = await app.PostAsync("""{"eventType":"pageview","sessionId":"s-1","siteId":"clinic.example","consent":"granted","page_data":{"url":"https://clinic.example/book"}}""");

        response.StatusCode.Should().Be(HttpStatusCode.Accepted);
        var keys = await _server.ListKeysAsync(clientBucket);
        keys.Should().HaveCount(2);
        keys.Should().ContainSingle(k => k.StartsWith(keyStart + "client_id=client_clinic_demo/", StringComparison.Ordinal));
        var auditKey = keys.Should().ContainSingle(k => k.StartsWith(keyStart + "audit/client_id=client_clinic_demo/", StringComparison.Ordinal)).Subject;
        using var s3 = _server.CreateClient();
        using var auditObject = await s3.GetObjectAsync(clientBucket, auditKey);
        await using var gzip = new System.IO.Compression.GZipStream(auditObject.ResponseStream, System.IO.Compression.CompressionMode.Decompress);
        using var reader = new StreamReader(gzip);
        using var record = System.Text.Json.JsonDocument.Parse((await reader.ReadToEndAsync()).Trim());
        record.RootElement.GetProperty("client_id").GetString().Should().Be("client_clinic_demo");
        record.RootElement.GetProperty("event_count").GetInt32().Should().Be(1);
        app.Storage.Files().Should().BeEmpty("with a client bucket nothing, not even an audit record, is left on the local disk");
    }

    public static CollectorApplication WithS3(CollectorApplication app, S3TestServer server, string clientBucket, string? backupBucket)
    {
        foreach (var (key, value) in server.Settings(clientBucket))
        {
            app.WithSetting(key, value);
        }

        // Set even when null: no backup bucket from the environment either.
        return app.WithSetting("BACKUP_S3_BUCKET", backupBucket);
    }
}
