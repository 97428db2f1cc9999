using System.Net;
using Evothesis.Collector.Replay;
using Evothesis.Collector.Tests.Sample;
using Evothesis.Collector.Tests.Support;
using Npgsql;

namespace Evothesis.Collector.Tests.Replay;

/// <summary>
/// Rebuilding the database from the backup bucket: the sample host stores in PostgreSQL and copies every batch
/// to the backup bucket (s3rver); evothesis-replay rebuilds a lost database from the backup, idempotently.
/// </summary>
public sealed class ReplayIntoPostgreSqlTests
{
    // Every column of every row, in a stable order: what "the same rows" means.
    private const string AllRows = "SELECT row_to_json(e)::text FROM (SELECT * FROM events ORDER BY id) e";

    private const string EventsWithIds = """
        {"eventType":"batch","sessionId":"s-9","siteId":"localhost","events":[
          {"eventType":"purchase","eventId":"ORD-1","event_data":{"order_id":"ORD-1","value":299.99,"currency":"USD"}},
          {"eventType":"form_submit","eventId":"F-1","page_data":{"url":"http://localhost/contact","title":"Contact"}}]}
        """;

    private S3TestServer _server = null!;
    private string _backupBucket = null!;
    private string _original = null!;
    private List<string> _originalRows = null!;

    [OneTimeSetUp]
    public async Task CollectIntoPostgreSqlAndTheBackupAsync()
    {
        _server = await S3TestServer.GetSharedAsync();
        _backupBucket = await _server.CreateBucketAsync("backup");
        _original = await PostgresTestServer.CreateDatabaseAsync();
        // The sample host reads the connection string while it starts: host settings, not app configuration.
        await using (var app = new SampleHostFactory(WithConnectionString(_server.Settings(backupBucket: _backupBucket), _original)))
        {
            using var client = app.CreateClient();
            foreach (var body in new[] { SampleHostObjectStorageTests.SeedSingleEvent, SampleHostObjectStorageTests.SeedBatch, EventsWithIds })
            {
                using var content = new StringContent(body, System.Text.Encoding.UTF8, "application/json");
                (await client.PostAsync("/collect", content)).StatusCode.Should().Be(HttpStatusCode.Accepted);
            }
        }

        _originalRows = await QueryAsync(_original, AllRows);
        _originalRows.Should().HaveCount(5);
        (await _server.ListKeysAsync(_backupBucket)).Should().HaveCount(3, "one object per request: each was its own batch");
    }

    [Test]
    public async Task Run_IntoAnEmptyDatabase_ReproducesEveryRowAndIsIdempotent()
    {
        var rebuilt = await PostgresTestServer.CreateDatabaseAsync();

        var (first, firstOutput) = await RunAsync(rebuilt);
        var afterFirst = await QueryAsync(rebuilt, AllRows);
        var (second, secondOutput) = await RunAsync(rebuilt);

        first.Should().Be(0, firstOutput);
        firstOutput.Should().Contain($"Replayed 3 objects (5 events) from s3:{_backupBucket} into postgresql:");
        afterFirst.Should().Equal(_originalRows, "the rebuilt rows are the lost rows, column for column");
        second.Should().Be(0, secondOutput);
        (await QueryAsync(rebuilt, AllRows)).Should().Equal(_originalRows, "replaying again adds nothing");
    }

    [Test]
    public async Task Run_IntoTheDatabaseTheCollectorWrote_AddsNothing()
    {
        var (code, output) = await RunAsync(_original);

        code.Should().Be(0, output);
        (await QueryAsync(_original, AllRows)).Should().Equal(_originalRows);
    }

    [Test]
    public async Task Run_AfterLosingPartOfTheDatabase_RestoresOnlyWhatWasLost()
    {
        var damaged = await PostgresTestServer.CreateDatabaseAsync();
        (await RunAsync(damaged)).Code.Should().Be(0);
        await ExecuteAsync(damaged, "DELETE FROM events WHERE event_type IN ('click', 'purchase')");
        (await QueryAsync(damaged, AllRows)).Should().HaveCount(3);

        var (code, output) = await RunAsync(damaged);

        code.Should().Be(0, output);
        (await QueryAsync(damaged, AllRows)).Should().Equal(_originalRows);
    }

    [Test]
    public async Task Run_PostgresTargetWithoutAConnectionString_FailsSayingWhatToSet()
    {
        var output = new StringWriter();

        var code = await ReplayCommand.RunAsync(
            ["--target", "postgres"],
            output,
            _server.Settings(backupBucket: _backupBucket));

        code.Should().Be(1);
        output.ToString().Should().Contain("ConnectionStrings__Evothesis");
    }

    private async Task<(int Code, string Output)> RunAsync(string connectionString)
    {
        var output = new StringWriter();
        var code = await ReplayCommand.RunAsync(
            ["--source", "backup", "--target", "postgres"],
            output,
            WithConnectionString(_server.Settings(backupBucket: _backupBucket), connectionString));
        return (code, output.ToString());
    }

    private static Dictionary<string, string?> WithConnectionString(Dictionary<string, string?> settings, string connectionString)
    {
        settings["ConnectionStrings:Evothesis"] = connectionString;
        return settings;
    }

    private static async Task<List<string>> QueryAsync(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await using var reader = await command.ExecuteReaderAsync();
        var rows = new List<string>();
        while (await reader.ReadAsync())
        {
            rows.Add(reader.GetString(0));
        }

        return rows;
    }

    private static async Task ExecuteAsync(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }
}
