using System.IO.Compression;
using System.Net;
using System.Text.Json;
using Evothesis.Collector.Tests.Sample;
using Evothesis.Collector.Tests.Support;
using Npgsql;

namespace Evothesis.Collector.Tests.Packaging;

/// <summary>
/// The packages as a consumer gets them: packed into a folder feed, added by version (no project references) to apps
/// made with <c>dotnet new web</c>, with the README's three lines, run as processes and sent the seed's two curl examples.
/// </summary>
[NonParallelizable]
public sealed class PackageConsumerTests
{
    /// <summary>How long stored events may take to show up after the 202s (the local folder closes its files after a second).</summary>
    private static readonly TimeSpan StoredWithin = TimeSpan.FromSeconds(30);

    private PackageFeed _feed = null!;

    [OneTimeSetUp]
    public async Task PackAsync() => _feed = await PackageFeed.PackAsync();

    [OneTimeTearDown]
    public void DeleteFeed() => _feed?.Dispose();

    [Test]
    public void Pack_EveryPackage_HasItsSymbolPackage()
    {
        foreach (var id in PackageFeed.PackageIds)
        {
            File.Exists(_feed.PackagePath(id)).Should().BeTrue(id);
            File.Exists(_feed.PackagePath(id, "snupkg")).Should().BeTrue($"{id} ships its symbols");
        }
    }

    [Test]
    public void Pack_Core_DependsOnNeitherNpgsqlNorTheAwsSdk()
    {
        var dependencies = _feed.Dependencies("Evothesis.Collector");

        dependencies.Should().NotBeEmpty();
        dependencies.Keys.Should().NotContain(id => id.StartsWith("Npgsql", StringComparison.OrdinalIgnoreCase) || id.StartsWith("AWSSDK", StringComparison.OrdinalIgnoreCase));
    }

    [Test]
    public void Pack_SinkPackages_BringTheirOwnSdkAndTheCoreOfTheSameVersion()
    {
        var postgreSql = _feed.Dependencies("Evothesis.Collector.PostgreSql");
        var s3 = _feed.Dependencies("Evothesis.Collector.S3");

        postgreSql.Keys.Should().Contain("Npgsql").And.NotContain(id => id.StartsWith("AWSSDK", StringComparison.Ordinal));
        s3.Keys.Should().Contain("AWSSDK.S3").And.NotContain("Npgsql");
        postgreSql["Evothesis.Collector"].Should().Contain(_feed.Version);
        s3["Evothesis.Collector"].Should().Contain(_feed.Version);
    }

    [Test]
    public async Task WebApp_WithTheAspNetCorePackage_Accepts202AndStoresTheSeedEventsInTheLocalFolder()
    {
        await using var app = await ConsumerApp.CreateAsync(_feed, "CollectorConsumer", """
            var builder = WebApplication.CreateBuilder(args);
            builder.Services.AddEvothesisCollector(builder.Configuration.GetSection("Evothesis"));
            var app = builder.Build();
            app.MapEvothesisCollector();          // POST /collect
            app.Run();
            """, "Evothesis.Collector.AspNetCore");
        await app.StartAsync();

        var single = await app.CollectAsync(SampleHostObjectStorageTests.SeedSingleEvent);
        var batch = await app.CollectAsync(SampleHostObjectStorageTests.SeedBatch);

        single.Status.Should().Be(HttpStatusCode.Accepted, app.Output);
        single.Body.Should().Contain("\"accepted\":1");
        batch.Status.Should().Be(HttpStatusCode.Accepted, app.Output);
        batch.Body.Should().Contain("\"accepted\":2");
        var stored = await WaitForAsync(() => Task.FromResult(StoredEventTypes(Path.Combine(app.Folder, "data"))), types => types.Count >= 3, app);
        stored.Should().BeEquivalentTo(["pageview", "click", "scroll"]);
    }

    [Test]
    public async Task WebApp_WithThePostgreSqlPackage_Accepts202AndStoresTheSeedEventsInPostgreSql()
    {
        var connectionString = await PostgresTestServer.CreateDatabaseAsync();
        await using var app = await ConsumerApp.CreateAsync(_feed, "PostgreSqlConsumer", """
            var builder = WebApplication.CreateBuilder(args);
            builder.Services.AddEvothesisCollector(builder.Configuration.GetSection("Evothesis")).AddPostgreSqlSink();
            var app = builder.Build();
            app.MapEvothesisCollector();          // POST /collect
            app.Run();
            """, "Evothesis.Collector.AspNetCore", "Evothesis.Collector.PostgreSql");
        await app.StartAsync(new Dictionary<string, string> { ["ConnectionStrings__Evothesis"] = connectionString });

        var single = await app.CollectAsync(SampleHostObjectStorageTests.SeedSingleEvent);
        var batch = await app.CollectAsync(SampleHostObjectStorageTests.SeedBatch);

        single.Status.Should().Be(HttpStatusCode.Accepted, app.Output);
        batch.Status.Should().Be(HttpStatusCode.Accepted, app.Output);
        var stored = await WaitForAsync(() => EventTypesInPostgreSqlAsync(connectionString), types => types.Count >= 3, app);
        stored.Should().BeEquivalentTo(["pageview", "click", "scroll"]);
        StoredEventTypes(Path.Combine(app.Folder, "data")).Should().BeEmpty("with the PostgreSQL sink the local folder is not written");
    }

    private static async Task<List<string>> WaitForAsync(Func<Task<List<string>>> read, Func<List<string>, bool> done, ConsumerApp app)
    {
        var deadline = DateTime.UtcNow + StoredWithin;
        while (true)
        {
            var value = await read();
            if (done(value))
            {
                return value;
            }

            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail($"The events were not stored within {StoredWithin} (found: {string.Join(", ", value)}):\n{app.Output}");
            }

            await Task.Delay(200);
        }
    }

    // Every event in the local folder's gzip NDJSON files (the spool beside them is the collector's working state).
    private static List<string> StoredEventTypes(string storage)
    {
        var types = new List<string>();
        if (!Directory.Exists(storage))
        {
            return types;
        }

        foreach (var file in Directory.EnumerateFiles(storage, "*.ndjson.gz", SearchOption.AllDirectories).Where(f => f.Contains("client_id=client_test", StringComparison.Ordinal)))
        {
            using var gzip = new GZipStream(File.OpenRead(file), CompressionMode.Decompress);
            using var reader = new StreamReader(gzip);
            while (reader.ReadLine() is { Length: > 0 } line)
            {
                using var document = JsonDocument.Parse(line);
                types.Add(document.RootElement.GetProperty("eventType").GetString()!);
            }
        }

        return types;
    }

    private static async Task<List<string>> EventTypesInPostgreSqlAsync(string connectionString)
    {
        var types = new List<string>();
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var exists = new NpgsqlCommand("SELECT to_regclass('public.events') IS NOT NULL", connection);
        if (!(bool)(await exists.ExecuteScalarAsync())!)
        {
            return types;
        }

        await using var command = new NpgsqlCommand("SELECT event_type FROM events WHERE client_id = 'client_test'", connection);
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            types.Add(reader.GetString(0));
        }

        return types;
    }
}
