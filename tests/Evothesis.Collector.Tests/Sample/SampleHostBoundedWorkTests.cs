using System.Net;
using System.Text.Json;
using Evothesis.Collector.Ingestion;
using Evothesis.Collector.Tests.Ingestion;
using Evothesis.Collector.Tests.Support;

namespace Evothesis.Collector.Tests.Sample;

/// <summary>
/// The attack of one 1 MiB request against the sample host: a batch of 500 members whose envelope carries about 95,000
/// fields they would all inherit. Before the payload expansion limit it took 15 s, grew the process by more than 1 GB and
/// stored 178 MB; the same body from an unknown site took 5 s and 2 GB before its 403.
/// </summary>
public class SampleHostBoundedWorkTests
{
    [TestCase("localhost", HttpStatusCode.RequestEntityTooLarge, ProblemTypes.PayloadExpansionTooLarge)]
    [TestCase("nobody.example", HttpStatusCode.Forbidden, ProblemTypes.DomainNotAuthorized)]
    public async Task PostCollect_InheritanceAttack_IsRefusedWithBoundedMemoryAndNothingStored(string siteId, HttpStatusCode expected, string problemType)
    {
        using var app = new CollectorApplication();
        var client = app.CreateClient();
        (await app.PostAsync("""{"eventType":"warmup","siteId":"localhost"}""", client: client)).StatusCode.Should().Be(HttpStatusCode.Accepted);
        var filesBefore = StoredFiles(app);
        var body = BoundedWorkTests.InheritanceAttack(siteId);

        var before = GC.GetTotalAllocatedBytes(precise: true);
        var response = await app.PostAsync(body, client: client);
        var allocated = GC.GetTotalAllocatedBytes(precise: true) - before;

        response.StatusCode.Should().Be(expected);
        var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        problem.GetProperty("type").GetString().Should().Be(problemType);
        StoredFiles(app).Should().Equal(filesBefore, "nothing of a refused request is stored");
        TestContext.Out.WriteLine($"{siteId}: {(int)response.StatusCode}, {allocated / (1024 * 1024.0):F1} MiB allocated in the process for a {body.Length / (1024 * 1024.0):F1} MiB body");
        allocated.Should().BeLessThan(32L * 1024 * 1024, "the whole host allocates a small multiple of the 1 MiB body (it was over 1 GB)");
    }

    // Stored events, leaving out the write-ahead spool (the collector's working state: its cursors move on their own).
    private static string[] StoredFiles(CollectorApplication app) =>
        app.Storage.Files().Where(f => !f.Contains("audit", StringComparison.Ordinal)).Order().ToArray();
}
