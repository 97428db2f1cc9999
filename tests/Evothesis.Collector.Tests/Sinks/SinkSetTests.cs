using Evothesis.Collector.Batching;
using Evothesis.Collector.Batching.Internal;
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

    [Test]
    public void Sinks_ObjectStores_NameTheirObjectLimitsAsTheirDeliveryPolicy()
    {
        var settings = new Dictionary<string, string?>
        {
            ["CLIENT_S3_BUCKET"] = "lake",
            ["BACKUP_S3_BUCKET"] = "copies",
            ["Evothesis:S3:ObjectMaxBytes"] = "2097152",
            ["Evothesis:S3:ObjectMaxAge"] = "00:00:45",
        };
        var batching = new BatchingOptions();

        var policies = Sinks(settings).Select(s => ((IDeliveryPolicySource)s).GetDeliveryPolicy(batching)).ToList();

        policies.Should().HaveCount(2).And.OnlyContain(p => p == new DeliveryPolicy(100_000, 2097152, TimeSpan.FromSeconds(45), 1));
    }

    [Test]
    public void Sinks_LocalFolder_ClosesFilesSoonerThanTheBucketsByDefault()
    {
        var local = (IDeliveryPolicySource)Sinks(new()).Single();
        var bucket = (IDeliveryPolicySource)Sinks(new() { ["CLIENT_S3_BUCKET"] = "lake" }).Single();

        var localPolicy = local.GetDeliveryPolicy(new BatchingOptions());
        var bucketPolicy = bucket.GetDeliveryPolicy(new BatchingOptions());

        localPolicy.Should().Be(new DeliveryPolicy(100_000, 4L * 1024 * 1024, TimeSpan.FromSeconds(1), 1));
        bucketPolicy.Should().Be(new DeliveryPolicy(100_000, 16L * 1024 * 1024, TimeSpan.FromSeconds(30), 1));
    }

    private static List<string> Names(Dictionary<string, string?> settings, InMemoryEventSink? registered = null) =>
        Sinks(settings, registered).Select(s => s.Name).ToList();

    private static List<IEventSink> Sinks(Dictionary<string, string?> settings, InMemoryEventSink? registered = null)
    {
        // A region, so the S3 client can be built without an AWS profile on the machine.
        var root = new ConfigurationBuilder().AddInMemoryCollection(settings.Append(new("AWS_REGION", "eu-west-1"))).Build();
        var services = new ServiceCollection();
        services.AddSingleton<IConfiguration>(root);
        var builder = services.AddEvothesisCollector(root.GetSection("Evothesis")).AddS3ObjectStorage();
        if (registered is not null)
        {
            builder.AddEventSink(registered);
        }

        using var provider = services.BuildServiceProvider();
        return [.. provider.GetRequiredService<SinkSet>().Sinks];
    }
}
