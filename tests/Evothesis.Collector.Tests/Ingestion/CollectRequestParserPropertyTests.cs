using System.Text;
using System.Text.Json;
using Evothesis.Collector.Events;
using Evothesis.Collector.Events.Internal;
using Evothesis.Collector.Ingestion;
using Evothesis.Collector.Ingestion.Internal;
using Evothesis.Collector.Tests.Support;
using FsCheck;
using FsCheck.Fluent;

namespace Evothesis.Collector.Tests.Ingestion;

/// <summary>
/// Random bodies up to the body limit: whatever arrives, the answer is 202, 400 or 413, nothing escapes, the bytes
/// stored stay within the documented multiple of the body, and the parser's work is linear in the body.
/// </summary>
public class CollectRequestParserPropertyTests
{
    // Small limits, so generated bodies reach them often.
    private static readonly RequestLimitsOptions Limits = new()
    {
        MaxBodyBytes = 256 * 1024,
        MaxEventsPerBatch = 200,
        MaxJsonDepth = 12,
        MaxStringLength = 4096,
    };

    // Allocation bound of the parser: a small constant times the body, plus a constant that covers building the
    // inherited fields a small batch may expand to (RequestLimitsOptions.PayloadExpansionAllowance) and the smallest bodies.
    private const int AllocationFactor = 24;
    private const int AllocationConstant = 4 * RequestLimitsOptions.PayloadExpansionAllowance;

    // What every stored event carries beside its payloads (ids, type, site, timestamps, address, user agent).
    private const int StoredBytesPerEvent = 1024;

    [FsCheck.NUnit.Property(MaxTest = 400, QuietOnSuccess = true)]
    public Property Parse_AnyBody_AnswersAsDocumentedWithinBoundedWork() =>
        Prop.ForAll(Arb.From(JsonBodies.Any()), body =>
        {
            var bytes = Encoding.UTF8.GetBytes(body);
            if (bytes.Length > Limits.MaxBodyBytes)
            {
                return;
            }

            var before = GC.GetAllocatedBytesForCurrentThread();
            ParsedRequest? parsed = null;
            try
            {
                parsed = CollectRequestParser.Parse(bytes, bytes.Length, Limits);
            }
            catch (CollectorProblemException problem)
            {
                problem.Status.Should().BeOneOf(400, 413);
            }

            var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            allocated.Should().BeLessThanOrEqualTo(
                ((long)AllocationFactor * bytes.Length) + AllocationConstant,
                "parsing {0} bytes must cost memory proportional to them", bytes.Length);
            if (parsed is not null)
            {
                PayloadBytes(parsed).Should().BeLessThanOrEqualTo(
                    ((long)Limits.MaxPayloadExpansion * bytes.Length) + RequestLimitsOptions.PayloadExpansionAllowance);
            }
        });

    [FsCheck.NUnit.Property(MaxTest = 150, QuietOnSuccess = true)]
    public Property ProcessAsync_AnyBatch_Answers202Or400Or413AndStoresAtMostTheStatedMultiple() =>
        Prop.ForAll(Arb.From(Gen.OneOf(JsonBodies.Batch(), JsonBodies.SingleEvent())), body =>
        {
            var bytes = Encoding.UTF8.GetBytes(body);
            var harness = Harness.Value;
            var storedBefore = harness.Sink.Events.Count;
            var result = harness.PostAsync(body, Clients.Origin(Clients.StandardDomain)).GetAwaiter().GetResult();

            result.StatusCode.Should().BeOneOf(202, 400, 413);
            var stored = harness.Sink.Events.Skip(storedBefore).ToList();
            if (result.StatusCode != 202)
            {
                stored.Should().BeEmpty("a refused request stores nothing");
                return;
            }

            stored.Should().HaveCount(result.Accepted);
            long storedBytes = 0;
            foreach (var e in stored)
            {
                storedBytes += Serialized(e);
            }

            storedBytes.Should().BeLessThanOrEqualTo(
                ((long)Limits.MaxPayloadExpansion * bytes.Length) + RequestLimitsOptions.PayloadExpansionAllowance + ((long)StoredBytesPerEvent * stored.Count),
                "a request of {0} bytes stores at most {1} times its body, 64 KiB and 1 KiB per event", bytes.Length, Limits.MaxPayloadExpansion);
        });

    private static readonly Lazy<CollectorHarness> Harness = new(() => new CollectorHarness(
        Clients.All(),
        options =>
        {
            options.Limits.MaxBodyBytes = Limits.MaxBodyBytes;
            options.Limits.MaxEventsPerBatch = Limits.MaxEventsPerBatch;
            options.Limits.MaxJsonDepth = Limits.MaxJsonDepth;
            options.Limits.MaxStringLength = Limits.MaxStringLength;
        }));

    [OneTimeTearDown]
    public async Task DisposeHarnessAsync()
    {
        if (Harness.IsValueCreated)
        {
            await Harness.Value.DisposeAsync();
        }
    }

    private static long PayloadBytes(ParsedRequest parsed)
    {
        long total = 0;
        foreach (var e in parsed.Events)
        {
            total += Size(e.PageData) + Size(e.EventData) + Size(e.CustomData) + Size(e.Consent) + (e.SessionId?.Length ?? 0);
        }

        return total;

        static long Size(RawJson value) => value.IsNull ? 0 : value.Utf8.Length;
    }

    private static long Serialized(CollectedEvent e)
    {
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream))
        {
            CollectedEventJson.Write(writer, e);
        }

        return stream.Length;
    }
}
