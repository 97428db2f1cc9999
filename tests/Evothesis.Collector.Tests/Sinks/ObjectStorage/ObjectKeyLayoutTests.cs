using Evothesis.Collector.Sinks.ObjectStorage.Internal;

namespace Evothesis.Collector.Tests.Sinks.ObjectStorage;

public sealed class ObjectKeyLayoutTests
{
    private static readonly Guid BatchId = Guid.Parse("0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b");

    [Test]
    public void GetKey_Prefix_IsHivePartitionedByClientDateAndHour()
    {
        var key = ObjectKeyLayout.GetKey("/events/", "client_acme", new DateTimeOffset(2026, 11, 26, 9, 5, 7, 123, TimeSpan.Zero), BatchId);

        key.Should().Be("events/client_id=client_acme/date=2026-11-26/hour=09/20261126T090507Z-0193a1b2c3d47e5f8a9b0c1d2e3f4a5b.ndjson.gz");
    }

    [Test]
    public void GetKey_NonUtcTime_PartitionsByUtc()
    {
        var key = ObjectKeyLayout.GetKey(null, "c", new DateTimeOffset(2026, 11, 27, 1, 30, 0, TimeSpan.FromHours(2)), BatchId);

        key.Should().StartWith("client_id=c/date=2026-11-26/hour=23/20261126T233000Z-");
    }

    [TestCase("a/b", "client_id=a%2Fb/")]
    [TestCase("../x", "client_id=..%2Fx/")]
    [TestCase("é id", "client_id=%C3%A9%20id/")]
    [TestCase("ok_Id-1.2", "client_id=ok_Id-1.2/")]
    public void GetKey_UnsafeClientId_IsEscapedIntoOneSegment(string clientId, string expectedStart)
    {
        var key = ObjectKeyLayout.GetKey(null, clientId, DateTimeOffset.UnixEpoch, BatchId);

        key.Should().StartWith(expectedStart);
        key.Split('/').Should().HaveCount(4);
    }

    [TestCase(null, "a/b")]
    [TestCase("events", "é id")]
    [TestCase("deep/prefix", "client_test")]
    public void TryParse_KeyFromGetKey_ReturnsClientTimeAndBatch(string? prefix, string clientId)
    {
        var createdAt = new DateTimeOffset(2026, 11, 26, 23, 59, 58, 999, TimeSpan.Zero);
        var key = ObjectKeyLayout.GetKey(prefix, clientId, createdAt, BatchId);

        ObjectKeyLayout.TryParse(prefix, key, out var info).Should().BeTrue();

        info.ClientId.Should().Be(clientId);
        info.BatchId.Should().Be(BatchId);
        info.BatchCreatedAt.Should().Be(new DateTimeOffset(2026, 11, 26, 23, 59, 58, TimeSpan.Zero));
        ObjectKeyLayout.GetKey(prefix, info.ClientId, info.BatchCreatedAt, info.BatchId).Should().Be(key, "a replayed batch must land under the same key");
    }

    [TestCase("client_id=a/date=2026-11-26/hour=10/notes.txt")]
    [TestCase("client_id=a/date=2026-11-26/hour=10/20261126T100000Z-zz.ndjson.gz")]
    [TestCase("client_id=a/date=2026-11-26/hour=11/20261126T100000Z-0193a1b2c3d47e5f8a9b0c1d2e3f4a5b.ndjson.gz")]
    [TestCase("client_id=a/date=2026-11-25/hour=10/20261126T100000Z-0193a1b2c3d47e5f8a9b0c1d2e3f4a5b.ndjson.gz")]
    [TestCase("client_id=/date=2026-11-26/hour=10/20261126T100000Z-0193a1b2c3d47e5f8a9b0c1d2e3f4a5b.ndjson.gz")]
    [TestCase("client_id=a%2/date=2026-11-26/hour=10/20261126T100000Z-0193a1b2c3d47e5f8a9b0c1d2e3f4a5b.ndjson.gz")]
    [TestCase("other/client_id=a/date=2026-11-26/hour=10/20261126T100000Z-0193a1b2c3d47e5f8a9b0c1d2e3f4a5b.ndjson.gz")]
    [TestCase("client_id=a/x/date=2026-11-26/hour=10/20261126T100000Z-0193a1b2c3d47e5f8a9b0c1d2e3f4a5b.ndjson.gz")]
    public void TryParse_KeyNotInLayout_ReturnsFalse(string key)
    {
        ObjectKeyLayout.TryParse(null, key, out _).Should().BeFalse();
    }
}
