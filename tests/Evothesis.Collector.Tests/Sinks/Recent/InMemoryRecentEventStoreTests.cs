using Evothesis.Collector.Events;
using Evothesis.Collector.Sinks.Recent;
using Evothesis.Collector.Tests.Support;
using Microsoft.Extensions.Options;

namespace Evothesis.Collector.Tests.Sinks.Recent;

public class InMemoryRecentEventStoreTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 5, 10, 0, 0, TimeSpan.Zero);

    [Test]
    public async Task Add_NotServed_KeepsNothing()
    {
        var store = Create();

        new RecentEventsObserver(store).OnCommitted(StoredEvents.Batch(Now, StoredEvents.Create()));

        (await store.GetRecentAsync(10, null, default)).Should().BeEmpty("nothing serves /events/recent, so nothing is kept in memory");
        store.Bytes.Should().Be(0);
    }

    [Test]
    public async Task Add_Served_KeepsTheNewestFirst()
    {
        var store = Create();
        store.Serve();

        store.Add(StoredEvents.Batch(Now, StoredEvents.Create(eventId: "a"), StoredEvents.Create(eventId: "b")));
        store.Add(StoredEvents.Batch(Now, StoredEvents.Create(eventId: "c")));

        (await store.GetRecentAsync(10, null, default)).Select(e => e.EventId).Should().Equal("c", "b", "a");
    }

    [Test]
    public async Task Add_OverTheByteLimit_DropsTheOldestUntilWithinIt()
    {
        var store = Create(capacity: 1000, capacityBytes: 64 * 1024);
        store.Serve();

        for (var i = 0; i < 20; i++)
        {
            store.Add(StoredEvents.Batch(Now, StoredEvents.Create(eventId: "e" + i, payloadBytes: 10_000)));
        }

        var kept = await store.GetRecentAsync(1000, null, default);
        store.Bytes.Should().BeLessThanOrEqualTo(64 * 1024);
        kept.Count.Should().BeInRange(4, 6, "about 10 KB each fit 64 KiB");
        kept[0].EventId.Should().Be("e19");
    }

    [Test]
    public async Task Add_OverTheCountLimit_KeepsTheNewest()
    {
        var store = Create(capacity: 3);
        store.Serve();

        store.Add(StoredEvents.Batch(Now, Enumerable.Range(0, 10).Select(i => StoredEvents.Create(eventId: "e" + i)).ToArray()));

        (await store.GetRecentAsync(10, null, default)).Select(e => e.EventId).Should().Equal("e9", "e8", "e7");
    }

    [Test]
    public async Task Add_EventsSlicedFromALargeBody_KeepsCopiesThatDoNotPinTheBody()
    {
        var store = Create();
        store.Serve();
        var body = new byte[1024 * 1024];
        "{\"k\":1}"u8.CopyTo(body);
        var e = StoredEvents.Create();
        e.EventData = RawJson.FromValidated(body.AsMemory(0, 7));

        store.Add(StoredEvents.Batch(Now, e));

        var kept = (await store.GetRecentAsync(1, null, default)).Single();
        kept.EventData.ToString().Should().Be("{\"k\":1}");
        System.Runtime.InteropServices.MemoryMarshal.TryGetArray(kept.EventData.Utf8, out var segment).Should().BeTrue();
        segment.Array!.Length.Should().Be(7, "the kept event holds its own bytes, not the 1 MiB body");
        store.Bytes.Should().BeLessThan(4096);
    }

    private static InMemoryRecentEventStore Create(int capacity = 1000, long capacityBytes = 16L * 1024 * 1024) =>
        new(Options.Create(new CollectorOptions { RecentEventsCapacity = capacity, RecentEventsCapacityBytes = capacityBytes }));
}
