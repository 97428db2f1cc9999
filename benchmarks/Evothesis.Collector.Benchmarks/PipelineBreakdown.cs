using System.Diagnostics;
using System.Globalization;
using System.Text;
using Evothesis.Collector.Ingestion;
using Evothesis.Collector.Ingestion.Internal;

namespace Evothesis.Collector.Benchmarks;

/// <summary>
/// Where a request's time and allocations go, stage by stage, for one shape of <see cref="PipelineBenchmarks"/>:
/// reading the body, parsing it, and the whole path; what the whole path costs beyond the first two is attribution,
/// privacy, encoding into the spool and the answer. Each stage runs alone in a loop on one thread, so its allocations
/// are counted exactly (<see cref="GC.GetAllocatedBytesForCurrentThread"/>); its time is a mean over the loop.
/// </summary>
/// <remarks><c>dotnet run -c Release -- --breakdown [Body] [Client] [Pii]</c>, e.g. <c>--breakdown Batch10 standard true</c>.</remarks>
internal static class PipelineBreakdown
{
    public static void Run(string[] args)
    {
        var benchmark = new PipelineBenchmarks
        {
            Body = args.Length > 0 ? args[0] : "Batch10",
            Client = args.Length > 1 ? args[1] : "standard",
            Pii = args.Length > 2 && bool.Parse(args[2]),
        };
        benchmark.Setup();
        try
        {
            var limits = new RequestLimitsOptions();
            var json = Encoding.UTF8.GetBytes(benchmark.Body switch
            {
                "Single" => PipelineBenchmarks.SingleBody(benchmark.Pii),
                "Batch100" => PipelineBenchmarks.BatchBody(100, benchmark.Pii),
                _ => PipelineBenchmarks.BatchBody(10, benchmark.Pii),
            });
            var events = benchmark.Events;
            Console.WriteLine($"{benchmark.Body}, {benchmark.Client} client, personal data: {benchmark.Pii}; {json.Length} bytes of JSON, {events} event(s)");
            Console.WriteLine("| stage | ns per request | ns per event | bytes allocated per request | per event |");
            Console.WriteLine("| --- | --- | --- | --- | --- |");
            Report("parse (CollectRequestParser.Parse)", events, () => CollectRequestParser.Parse(json, json.Length, limits));
            Report("the whole path (CollectorPipeline.ProcessAsync)", events, () => benchmark.Collect().AsTask().GetAwaiter().GetResult());
        }
        finally
        {
            benchmark.Cleanup();
        }
    }

    private static void Report(string stage, int events, Action action)
    {
        // Warm up for 4 s: tiered compilation (with its instrumented tier) is done by then.
        var warmup = Stopwatch.StartNew();
        while (warmup.Elapsed < TimeSpan.FromSeconds(4))
        {
            action();
        }

        var iterations = Math.Max(2_000, 200_000 / events);

        var allocated = GC.GetAllocatedBytesForCurrentThread();
        var watch = Stopwatch.StartNew();
        for (var i = 0; i < iterations; i++)
        {
            action();
        }

        watch.Stop();
        allocated = GC.GetAllocatedBytesForCurrentThread() - allocated;
        var ns = watch.Elapsed.TotalNanoseconds / iterations;
        var bytes = (double)allocated / iterations;
        Console.WriteLine(string.Create(
            CultureInfo.InvariantCulture,
            $"| {stage} | {ns:F0} | {ns / events:F0} | {bytes:F0} | {bytes / events:F0} |"));
    }
}
