using System.Text;
using BenchmarkDotNet.Attributes;
using Evothesis.Collector.Ingestion;
using Evothesis.Collector.Ingestion.Internal;

namespace Evothesis.Collector.Benchmarks;

/// <summary>
/// The cost of reading a <c>/collect</c> body: one pageview, and a 50-event batch as the development pixel sends
/// it. Reported per body; divide by the event count for the cost per event.
/// </summary>
[MemoryDiagnoser]
public class RequestParserBenchmarks
{
    private readonly RequestLimitsOptions _limits = new();
    private byte[] _single = [];
    private byte[] _batch = [];

    [GlobalSetup]
    public void Setup()
    {
        _single = Encoding.UTF8.GetBytes(
            """
            {"eventType":"pageview","eventId":"e-1","sessionId":"sess_8f2a","siteId":"shop.acme.com","timestamp":"2026-11-26T11:59:58.123Z",
             "page_data":{"url":"https://shop.acme.com/catalog?q=shoes&page=2","title":"Catalog","referrer":"https://www.google.com/"},
             "visitorId":"v_19ab"}
            """);

        var batch = new StringBuilder("""{"eventType":"batch","sessionId":"sess_8f2a","siteId":"shop.acme.com","sentAt":"2026-11-26T12:00:00Z","events":[""");
        for (var i = 0; i < 50; i++)
        {
            if (i > 0)
            {
                batch.Append(',');
            }

            batch.Append($$$"""{"eventType":"click","eventId":"e-{{{i}}}","timestamp":"2026-11-26T11:59:{{{i % 60:00}}}.5Z","event_data":{"element":"button#add-to-cart-{{{i}}}","x":{{{i * 7}}},"y":{{{i * 3}}},"text":"Add to cart"},"page_data":{"url":"https://shop.acme.com/p/{{{i}}}","title":"Product {{{i}}}"}}""");
        }

        batch.Append("]}");
        _batch = Encoding.UTF8.GetBytes(batch.ToString());
    }

    [Benchmark(Baseline = true)]
    public int SingleEvent() => CollectRequestParser.Parse(_single, _single.Length, _limits).Events.Count;

    [Benchmark]
    public int Batch50() => CollectRequestParser.Parse(_batch, _batch.Length, _limits).Events.Count;
}
