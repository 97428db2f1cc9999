using Evothesis.Collector.Sinks;
using Evothesis.Collector.Tests.Support;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Evothesis.Collector.Tests.Sinks;

/// <summary>Which sinks every batch goes to, for each combination of registered sinks and buckets.</summary>
public sealed class SinkSetTests
{
    [Test]
    public void Sinks_NothingConfigured_IsTheLocalFolder()
    {
        Names(new()).Should().ContainSingle().Which.Should().StartWith("local:");
    }

    [Test]
    public void Sinks_ClientBucket_ReplacesTheLocalFolder()
    {
        Names(new() { ["CLIENT_S3_BUCKET"] = "lake" }).Should().Equal("s3:lake");
    }

    [Test]
    public void Sinks_BackupBucketOnly_KeepsTheLocalFolderAsPrimaryAndAddsTheBackup()
    {
        var names = Names(new() { ["BACKUP_S3_BUCKET"] = "copies" });

        names.Should().HaveCount(2);
        names[0].Should().StartWith("local:");
        names[1].Should().Be("backup:s3:copies");
    }

    [Test]
    public void Sinks_RegisteredSinkAndBothBuckets_WritesToAllThree()
    {
        Names(new() { ["CLIENT_S3_BUCKET"] = "lake", ["BACKUP_S3_BUCKET"] = "copies" }, registered: new InMemoryEventSink())
            .Should().Equal("memory", "s3:lake", "backup:s3:copies");
    }

    [Test]
    public void Sinks_RegisteredSinkOnly_ReplacesTheLocalFolder()
    {
        Names(new(), registered: new InMemoryEventSink()).Should().Equal("memory");
    }

    private static List<string> Names(Dictionary<string, string?> settings, InMemoryEventSink? registered = null)
    {
        // A region, so the S3 client can be built without an AWS profile on the machine.
        var root = new ConfigurationBuilder().AddInMemoryCollection(settings.Append(new("AWS_REGION", "eu-west-1"))).Build();
        var services = new ServiceCollection();
        services.AddSingleton<IConfiguration>(root);
        var builder = services.AddEvothesisCollector(root.GetSection("Evothesis"));
        if (registered is not null)
        {
            builder.AddEventSink(registered);
        }

        using var provider = services.BuildServiceProvider();
        return provider.GetRequiredService<SinkSet>().Sinks.Select(s => s.Name).ToList();
    }
}
