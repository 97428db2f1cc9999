using System.Net;
using Evothesis.Collector.Replay;
using Evothesis.Collector.Sinks.ObjectStorage;
using Evothesis.Collector.Tests.Sample;
using Evothesis.Collector.Tests.Support;

namespace Evothesis.Collector.Tests.Replay;

/// <summary>evothesis-replay end to end: the sample host writes the backup bucket (s3rver), the command replays it.</summary>
public sealed class ReplayCommandTests
{
    private S3TestServer _server = null!;
    private string _backupBucket = null!;
    private TempDirectory _target = null!;

    [OneTimeSetUp]
    public async Task WriteBackupThroughTheSampleHostAsync()
    {
        _server = await S3TestServer.GetSharedAsync();
        _backupBucket = await _server.CreateBucketAsync("backup");
        var clientBucket = await _server.CreateBucketAsync("client");
        using var app = SampleHostObjectStorageTests.WithS3(new CollectorApplication(), _server, clientBucket, _backupBucket);
        (await app.PostAsync(SampleHostObjectStorageTests.SeedSingleEvent)).StatusCode.Should().Be(HttpStatusCode.Accepted);
        (await app.PostAsync(SampleHostObjectStorageTests.SeedBatch)).StatusCode.Should().Be(HttpStatusCode.Accepted);
    }

    [SetUp]
    public void SetUp() => _target = new TempDirectory();

    [TearDown]
    public void TearDown() => _target.Dispose();

    [Test]
    public async Task Run_FromTheBackupBucketIntoAFolder_ReproducesTheObjectsAndIsIdempotent()
    {
        var (first, firstOutput) = await RunAsync("--target", _target.Path);
        var keysAfterFirst = await new LocalFolderObjectStore(_target.Path).ListKeysAsync();
        var (second, secondOutput) = await RunAsync("--source", "backup", "--target", _target.Path);

        first.Should().Be(0, firstOutput);
        firstOutput.Should().Contain($"Replayed 2 objects (3 events) from s3:{_backupBucket} into local:");
        second.Should().Be(0, secondOutput);
        keysAfterFirst.Should().Equal(await _server.ListKeysAsync(_backupBucket));
        (await new LocalFolderObjectStore(_target.Path).ListKeysAsync()).Should().Equal(keysAfterFirst);
        _target.Files().Should().HaveCount(2);
    }

    [Test]
    public async Task Run_BucketUrlWithClientAndRange_ReplaysOnlyThatSlice()
    {
        var keys = await _server.ListKeysAsync(_backupBucket);
        var hour = DateTimeOffset.ParseExact(keys[0].Split('/')[3][..16], "yyyyMMdd'T'HHmmss'Z'", System.Globalization.CultureInfo.InvariantCulture);

        var (code, output) = await RunAsync(
            "--source", $"s3://{_backupBucket}",
            "--target", _target.Path,
            "--client", "client_test",
            "--from", hour.AddHours(-1).ToString("O"),
            "--to", hour.AddHours(1).ToString("O"));
        var (none, noneOutput) = await RunAsync("--source", $"s3://{_backupBucket}", "--target", _target.Path, "--client", "client_other");

        code.Should().Be(0, output);
        output.Should().Contain("Replayed 2 objects");
        none.Should().Be(0, noneOutput);
        noneOutput.Should().Contain("Replayed 0 objects");
    }

    [Test]
    public async Task Run_DryRun_CountsWithoutWriting()
    {
        var (code, output) = await RunAsync("--target", _target.Path, "--dry-run");

        code.Should().Be(0, output);
        output.Should().Contain("Would replay 2 objects (3 events)");
        _target.Files().Should().BeEmpty();
    }

    [Test]
    public async Task Run_BackupSourceWithoutABackupBucket_FailsSayingWhatToSet()
    {
        var output = new StringWriter();

        var code = await ReplayCommand.RunAsync(["--target", _target.Path], output, new Dictionary<string, string?>());

        code.Should().Be(1);
        output.ToString().Should().Contain("BACKUP_S3_BUCKET");
    }

    [Test]
    public async Task Run_MissingBucket_FailsNamingIt()
    {
        var (code, output) = await RunAsync("--source", "s3://no-such-bucket-x1", "--target", _target.Path);

        code.Should().Be(1);
        output.Should().Contain("no-such-bucket-x1").And.Contain("does not exist");
    }

    [TestCase(new string[0], "--target is required")]
    [TestCase(new[] { "--target", "x", "--from", "yesterday" }, "--from 'yesterday' is not a date")]
    [TestCase(new[] { "--target", "x", "--from", "2026-11-27", "--to", "2026-11-26" }, "must be after --from")]
    [TestCase(new[] { "--target", "x", "--bogus", "1" }, "unknown option '--bogus'")]
    [TestCase(new[] { "--target" }, "--target needs a value")]
    public async Task Run_BadArguments_ExitsWith2AndTheUsage(string[] args, string expected)
    {
        var output = new StringWriter();

        var code = await ReplayCommand.RunAsync(args, output);

        code.Should().Be(2);
        output.ToString().Should().Contain(expected).And.Contain("Usage: evothesis-replay");
    }

    private async Task<(int Code, string Output)> RunAsync(params string[] args)
    {
        var output = new StringWriter();
        var code = await ReplayCommand.RunAsync(
            args,
            output,
            _server.Settings(backupBucket: _backupBucket));
        return (code, output.ToString());
    }
}
