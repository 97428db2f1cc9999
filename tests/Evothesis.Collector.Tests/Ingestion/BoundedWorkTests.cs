using System.Net;
using System.Text;
using System.Text.Json;
using Evothesis.Collector.Authorization;
using Evothesis.Collector.Events.Internal;
using Evothesis.Collector.Ingestion;
using Evothesis.Collector.Ingestion.Internal;
using Evothesis.Collector.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Evothesis.Collector.Tests.Ingestion;

/// <summary>
/// What a request costs stays proportional to its size, before and after authorization: the attack of a batch whose
/// envelope carries tens of thousands of fields every member would inherit, an unknown site, and repeated headers.
/// </summary>
public class BoundedWorkTests
{
    private const int MiB = 1024 * 1024;

    /// <summary>
    /// 500 members of <c>{"eventType":"x","a":1}</c> and an envelope filled to 1 MiB with unknown fields: before the
    /// limit, this one request took 15 s, 1.2 GB of memory and stored 178 MB.
    /// </summary>
    public static string InheritanceAttack(string siteId, int bodyBytes = MiB)
    {
        var members = string.Join(",", Enumerable.Repeat("""{"eventType":"x","a":1}""", 500));
        var body = new StringBuilder($$"""{"eventType":"batch","siteId":"{{siteId}}","events":[{{members}}]""");
        for (var i = 0; ; i++)
        {
            var field = $",\"f{i}\":1";
            if (body.Length + field.Length + 1 > bodyBytes)
            {
                break;
            }

            body.Append(field);
        }

        return body.Append('}').ToString();
    }

    [Test]
    public async Task ProcessAsync_EnvelopeFieldsEveryMemberInherits_Answers413AndStoresNothing()
    {
        await using var harness = new CollectorHarness(Clients.All());
        var body = Encoding.UTF8.GetBytes(InheritanceAttack(Clients.StandardDomain));

        var (response, allocated) = await Measure(harness.Pipeline, Request(body));

        response.StatusCode.Should().Be(413);
        Encoding.UTF8.GetString(response.Body.Span).Should().Contain(ProblemTypes.PayloadExpansionTooLarge);
        harness.Sink.Events.Should().BeEmpty();
        allocated.Should().BeLessThan(8L * body.Length, "the refusal costs a small multiple of the body, not the expansion");
    }

    [Test]
    public async Task ProcessAsync_AttackFromAnUnknownSite_IsRefusedBeforeTheBodyIsParsed()
    {
        var authorizer = new CountingAuthorizer(new StaticDomainAuthorizer(Clients.All()));
        await using var harness = new CollectorHarness(
            Clients.All(),
            build: b => b.Services.Replace(ServiceDescriptor.Singleton<IDomainAuthorizer>(authorizer)));
        using var refused = harness.Collect("evothesis.collector.requests.refused");
        using var rejected = harness.Collect("evothesis.collector.events.rejected");
        var body = Encoding.UTF8.GetBytes(InheritanceAttack("nobody.example"));

        var (response, allocated) = await Measure(harness.Pipeline, Request(body));

        response.StatusCode.Should().Be(403);
        authorizer.Domains.Should().Equal("nobody.example");

        // The body is read (about three times its size: a buffer doubling up to it, and the body's own copy) and
        // scanned, never parsed: parsing would copy the envelope into each of the 500 members. First-call costs
        // (metric instruments, log templates) come on top, a few KiB.
        allocated.Should().BeLessThan(4L * body.Length);
        refused.GetMeasurementSnapshot().Should().ContainSingle().Which.Tags["reason"].Should().Be("domain_not_authorized");
        rejected.GetMeasurementSnapshot().Sum(m => m.Value).Should().Be(500, "the batch's members are counted as refused");
    }

    [Test]
    public async Task ProcessAsync_NestingAllowedByAConfiguredDepthBeyondTheJsonDefault_IsStoredAndRedacted()
    {
        // System.Text.Json readers stop at 64 levels unless told otherwise: every reader on the way must be told.
        await using var harness = new CollectorHarness(Clients.All(), o => o.Limits.MaxJsonDepth = 100);
        const int Depth = 80;
        var nested = string.Concat(Enumerable.Repeat("{\"a\":", Depth)) + "\"mail jane.doe@example.com\"" + new string('}', Depth);

        var result = await harness.PostAsync(
            $$"""{"eventType":"deep","event_data":{{nested}},"consent":{{nested}}}""",
            Clients.Origin(Clients.StandardDomain));

        result.StatusCode.Should().Be(202);
        var stored = harness.Sink.Events.Should().ContainSingle().Subject;
        stored.EventData.ToString().Should().Contain("[redacted:email]").And.NotContain("jane.doe");
        stored.EventData.ToString().Count(c => c == '{').Should().Be(Depth);
        stored.EventData.ToJsonElement().ValueKind.Should().Be(JsonValueKind.Object);

        // As the object-storage sinks write it and as replay and the recent-events view read it back.
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            CollectedEventJson.Write(writer, stored);
        }

        CollectedEventJson.Read(buffer.ToArray()).EventData.Should().Be(stored.EventData);
    }

    [Test]
    public async Task ProcessAsync_SmallBatchSharingTheEnvelopePageData_IsStoredWithItInEveryEvent()
    {
        await using var harness = new CollectorHarness(Clients.All());
        var pageData = $$"""{"url":"https://standard.example/catalog","title":"{{new string('t', 1500)}}"}""";
        var members = string.Join(",", Enumerable.Range(0, 40).Select(i => $$"""{"eventType":"click","eventId":"c{{i}}"}"""));

        var result = await harness.PostAsync(
            $$"""{"eventType":"batch","page_data":{{pageData}},"events":[{{members}}]}""",
            Clients.Origin(Clients.StandardDomain));

        result.StatusCode.Should().Be(202);
        result.Accepted.Should().Be(40);
        harness.Sink.Events.Should().HaveCount(40).And.OnlyContain(e => e.PageData.ToString().Contains("catalog"));
    }

    [Test]
    public async Task ProcessAsync_MembersOverridingManyEnvelopeFields_KeepTheirOwnValuesAndInheritTheRest()
    {
        await using var harness = new CollectorHarness(Clients.All());
        var envelope = string.Concat(Enumerable.Range(0, 300).Select(i => $",\"k{i}\":\"env\""));
        var member = "{\"eventType\":\"x\"" + string.Concat(Enumerable.Range(0, 300).Where(i => i % 2 == 0).Select(i => $",\"k{i}\":\"own\"")) + "}";
        var members = string.Join(",", Enumerable.Repeat(member, 20));

        var result = await harness.PostAsync(
            "{\"eventType\":\"batch\"" + envelope + ",\"events\":[" + members + "]}",
            Clients.Origin(Clients.StandardDomain));

        result.StatusCode.Should().Be(202);
        var custom = System.Text.Json.JsonDocument.Parse(harness.Sink.Events[0].CustomData.Utf8).RootElement;
        custom.EnumerateObject().Should().HaveCount(300, "each name once: the member's own, or the envelope's");
        custom.GetProperty("k0").GetString().Should().Be("own");
        custom.GetProperty("k1").GetString().Should().Be("env");
    }

    [Test]
    public async Task ProcessAsync_LongUserAgent_IsStoredCutToTheLimit()
    {
        await using var harness = new CollectorHarness(Clients.All(), o => o.Limits.MaxUserAgentLength = 100);
        var userAgent = new string('a', 99) + "\ud83d\ude00" + new string('b', 8000);

        var response = await harness.Pipeline.ProcessAsync(
            Request(Encoding.UTF8.GetBytes("""{"eventType":"batch","events":[{"eventType":"a"},{"eventType":"b"}]}"""), Clients.Origin(Clients.StandardDomain), userAgent),
            CancellationToken.None);

        response.StatusCode.Should().Be(202);
        harness.Sink.Events.Should().HaveCount(2).And.OnlyContain(e => e.UserAgent == new string('a', 99), "the cut never splits a surrogate pair");
    }

    [Test]
    public void TryScanSite_BatchNamingItsSite_FindsItAndCountsTheMembers()
    {
        var body = Encoding.UTF8.GetBytes("""{"events":[{"eventType":"a"},{"eventType":"b","siteId":"x.example"},3],"site_id":"shop.example","eventType":"Batch"}""");

        CollectRequestParser.TryScanSite(body, body.Length, new RequestLimitsOptions(), out var siteId, out var members).Should().BeTrue();

        siteId.Should().Be("shop.example", "only the top level names the site");
        members.Should().Be(3);
    }

    [TestCase("""{"eventType":"x","events":[1,2,3]}""", null, 1)]
    [TestCase("""{"eventType":"x","siteId":7}""", null, 1)]
    [TestCase("""{"eventType":"x","page_data":{"siteId":"inner.example"}}""", null, 1)]
    public void TryScanSite_NoTopLevelSite_FindsNone(string json, string? expectedSite, int expectedMembers)
    {
        var body = Encoding.UTF8.GetBytes(json);

        CollectRequestParser.TryScanSite(body, body.Length, new RequestLimitsOptions(), out var siteId, out var members).Should().BeTrue();

        siteId.Should().Be(expectedSite);
        members.Should().Be(expectedMembers);
    }

    [TestCase("")]
    [TestCase("[]")]
    [TestCase("""{"siteId":"a.example",""")]
    [TestCase("""{"siteId":"a.example","x":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}""")]
    public void TryScanSite_NotAnObjectWithinTheLimits_LeavesTheAnswerToTheParser(string json)
    {
        var body = Encoding.UTF8.GetBytes(json);

        CollectRequestParser.TryScanSite(body, body.Length, new RequestLimitsOptions(), out var siteId, out _).Should().BeFalse();
        siteId.Should().BeNull();
    }

    [Test]
    public async Task ReadAsync_ContentLengthPromisedButNotSent_HoldsOnlyWhatArrived()
    {
        var sent = Encoding.UTF8.GetBytes("""{"eventType":"x"}""");
        var request = new CollectorRequest { Body = new MemoryStream(sent), ContentLength = 1000 * 1000 };

        var before = GC.GetAllocatedBytesForCurrentThread();
        var read = RequestBodyReader.ReadAsync(request, MiB, CancellationToken.None);
        read.IsCompleted.Should().BeTrue("a memory stream answers at once, so the measure covers the whole read");
        var act = async () => await read;
        var problem = (await act.Should().ThrowAsync<CollectorProblemException>()).Which;
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        problem.Status.Should().Be(400);
        allocated.Should().BeLessThan(64 * 1024, "the buffer grows with the bytes that arrive, not with the Content-Length");
    }

    private static async Task<(CollectorResponse Response, long Allocated)> Measure(CollectorPipeline pipeline, CollectorRequest request)
    {
        var before = GC.GetAllocatedBytesForCurrentThread();
        var pending = pipeline.ProcessAsync(request, CancellationToken.None);
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        pending.IsCompleted.Should().BeTrue("a refusal completes without waiting, so the measure covers all of it");
        return (await pending, allocated);
    }

    private static CollectorRequest Request(byte[] body, string? origin = null, string? userAgent = null) => new()
    {
        Body = new MemoryStream(body),
        ContentLength = body.Length,
        ContentType = "application/json",
        Origin = origin,
        UserAgent = userAgent,
        RemoteIpAddress = IPAddress.Parse("203.0.113.7"),
    };

    private sealed class CountingAuthorizer(IDomainAuthorizer inner) : IDomainAuthorizer
    {
        private readonly List<string> _domains = [];

        public IReadOnlyList<string> Domains
        {
            get
            {
                lock (_domains)
                {
                    return _domains.ToArray();
                }
            }
        }

        public ValueTask<DomainAuthorization> AuthorizeAsync(string domain, CancellationToken cancellationToken)
        {
            lock (_domains)
            {
                _domains.Add(domain);
            }

            return inner.AuthorizeAsync(domain, cancellationToken);
        }
    }
}
