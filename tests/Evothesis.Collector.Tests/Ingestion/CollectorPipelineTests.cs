using Evothesis.Collector.Ingestion;
using Evothesis.Collector.Tests.Support;

namespace Evothesis.Collector.Tests.Ingestion;

public sealed class CollectorPipelineTests
{
    private static readonly DateTimeOffset ReceivedAt = new(2026, 11, 26, 12, 0, 0, 123, TimeSpan.Zero);

    [Test]
    public void NextId_AfterAnId_IsTheNextUuidV7OfTheSameMillisecond()
    {
        var first = Guid.CreateVersion7(ReceivedAt);

        var next = CollectorPipeline.NextId(first, ReceivedAt);

        next.Should().NotBe(first);
        next.Version.Should().Be(7);
        next.Variant.Should().Be(first.Variant);
        next.ToString()[..13].Should().Be(first.ToString()[..13], "the time and version stay");
        string.CompareOrdinal(next.ToString(), first.ToString()).Should().BePositive("ids of a request sort in their order");
    }

    [Test]
    public void NextId_RandomBitsAtTheirMaximum_DrawsAFreshId()
    {
        // Version 7, variant 10, the 62 low bits all ones.
        var last = Guid.Parse("019ac0b0-3c7b-7abc-bfff-ffffffffffff");

        var next = CollectorPipeline.NextId(last, ReceivedAt);

        next.Version.Should().Be(7);
        next.Should().NotBe(last);
        next.ToString()[..13].Should().Be(Guid.CreateVersion7(ReceivedAt).ToString()[..13], "a fresh id of the receive time");
    }

    [Test]
    public async Task ProcessAsync_Batch_GivesEveryEventItsOwnUuidV7OfTheReceiveTime()
    {
        await using var harness = new CollectorHarness(Clients.All());
        var members = string.Join(",", Enumerable.Range(0, 50).Select(i => $$"""{"eventType":"click","eventId":"e{{i}}"}"""));

        var result = await harness.PostAsync($$"""{"eventType":"batch","events":[{{members}}]}""", Clients.Origin(Clients.StandardDomain));

        result.StatusCode.Should().Be(202);
        var events = harness.Sink.Events;
        events.Should().HaveCount(50);
        events.Select(e => e.Id).Should().OnlyHaveUniqueItems();
        events.Should().OnlyContain(e => e.Id.Version == 7);
        events.Select(e => e.Id.ToString()[..13]).Distinct().Should().ContainSingle("every id carries the request's receive time");
    }
}
