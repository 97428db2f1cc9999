using Evothesis.Collector.Sinks.S3;
using Evothesis.Collector.Sinks.S3.Internal;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Evothesis.Collector.Tests.Sinks.ObjectStorage;

/// <summary>Binding, the environment-variable aliases and start-up validation of <see cref="S3Options"/>.</summary>
public sealed class S3OptionsTests
{
    [Test]
    public void AddEvothesisCollector_AliasesOnly_FillTheS3Options()
    {
        var s3 = Resolve(new()
        {
            ["CLIENT_S3_BUCKET"] = "client-bucket",
            ["BACKUP_S3_BUCKET"] = " backup-bucket ",
            ["AWS_ENDPOINT_URL_S3"] = "http://127.0.0.1:9000",
            ["AWS_REGION"] = "eu-west-1",
        });

        s3.ClientBucket.Should().Be("client-bucket");
        s3.BackupBucket.Should().Be("backup-bucket");
        s3.ServiceUrl.Should().Be("http://127.0.0.1:9000");
        s3.Region.Should().Be("eu-west-1");
    }

    [Test]
    public void AddEvothesisCollector_EvothesisKeysAndAliases_EvothesisKeysWin()
    {
        var s3 = Resolve(new()
        {
            ["CLIENT_S3_BUCKET"] = "alias-client",
            ["BACKUP_S3_BUCKET"] = "alias-backup",
            ["Evothesis:S3:ClientBucket"] = "configured-client",
            ["Evothesis:S3:BackupBucket"] = "configured-backup",
            ["Evothesis:S3:ServiceUrl"] = "http://configured:9000",
            ["AWS_ENDPOINT_URL_S3"] = "http://alias:9000",
        });

        s3.ClientBucket.Should().Be("configured-client");
        s3.BackupBucket.Should().Be("configured-backup");
        s3.ServiceUrl.Should().Be("http://configured:9000");
    }

    [Test]
    public void AddEvothesisCollector_GeneralEndpointVariable_IsTheFallbackForTheS3One()
    {
        Resolve(new() { ["AWS_ENDPOINT_URL"] = "http://general:9000" }).ServiceUrl.Should().Be("http://general:9000");
        Resolve(new() { ["AWS_ENDPOINT_URL"] = "http://general:9000", ["AWS_ENDPOINT_URL_S3"] = "http://s3:9000" }).ServiceUrl.Should().Be("http://s3:9000");
    }

    [Test]
    public void AddS3Sink_Configure_SetsOptionsInCode()
    {
        var services = new ServiceCollection();
        services.AddSingleton<IConfiguration>(new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["CLIENT_S3_BUCKET"] = "from-env" }).Build());
        services.AddEvothesisCollector().AddS3Sink(o =>
        {
            o.BackupBucket = "code-backup";
            o.MultipartThreshold = 64L * 1024 * 1024;
        });
        using var provider = services.BuildServiceProvider();

        var s3 = provider.GetRequiredService<IOptions<S3Options>>().Value;

        s3.ClientBucket.Should().Be("from-env");
        s3.BackupBucket.Should().Be("code-backup");
        s3.MultipartThreshold.Should().Be(64L * 1024 * 1024);
    }

    [Test]
    public void AddS3Sink_NoBucketAnywhere_FailsAtStartNamingTheSettings()
    {
        var services = new ServiceCollection();
        services.AddEvothesisCollector().AddS3Sink();
        using var provider = services.BuildServiceProvider();

        var act = () => provider.GetRequiredService<IStartupValidator>().Validate();

        act.Should().Throw<OptionsValidationException>().WithMessage("*AddS3Sink()*CLIENT_S3_BUCKET*BACKUP_S3_BUCKET*");
    }

    [Test]
    public void AddEvothesisCollector_NoBucketAndNoAddS3Sink_IsValid()
    {
        var services = new ServiceCollection();
        services.AddEvothesisCollector();
        using var provider = services.BuildServiceProvider();

        var act = () => provider.GetRequiredService<IStartupValidator>().Validate();

        act.Should().NotThrow();
    }

    [TestCase("CLIENT_S3_BUCKET")]
    [TestCase("BACKUP_S3_BUCKET")]
    [TestCase("Evothesis:S3:ClientBucket")]
    public void AddEvothesisCollector_BucketConfiguredWithoutS3Storage_FailsAtStartNamingThePackage(string key)
    {
        var services = new ServiceCollection();
        services.AddSingleton<IConfiguration>(new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { [key] = "lake" }).Build());
        services.AddEvothesisCollector();
        using var provider = services.BuildServiceProvider();

        var act = () => provider.GetRequiredService<IStartupValidator>().Validate();

        act.Should().Throw<OptionsValidationException>().WithMessage($"*{key}*Evothesis.Collector.S3*AddS3Sink()*");
    }

    [TestCase("Evothesis:S3:ClientBucket", "bucket/with/prefix", "*ClientBucket*CLIENT_S3_BUCKET*'bucket/with/prefix'*")]
    [TestCase("Evothesis:S3:BackupBucket", "ab", "*BackupBucket*'ab'*")]
    [TestCase("Evothesis:S3:ServiceUrl", "localhost:9000", "*ServiceUrl*'localhost:9000'*absolute*")]
    [TestCase("Evothesis:S3:PartSize", "1048576", "*PartSize (1048576)*5 MiB*")]
    [TestCase("Evothesis:S3:MultipartThreshold", "6000000", "*MultipartThreshold (6000000)*at least*PartSize (8388608)*")]
    [TestCase("Evothesis:S3:MaxConcurrentUploads", "0", "*MaxConcurrentUploads (0)*")]
    [TestCase("Evothesis:S3:ObjectMaxBytes", "512", "*Evothesis:S3:ObjectMaxBytes (512) must be between 1024 and*")]
    [TestCase("Evothesis:S3:ObjectMaxAge", "02:00:00", "*Evothesis:S3:ObjectMaxAge (02:00:00) must be between*")]
    [TestCase("Evothesis:Storage:ObjectMaxBytes", "1073741824", "*Evothesis:Storage:ObjectMaxBytes (1073741824) must be between*")]
    [TestCase("Evothesis:Storage:ObjectMaxAge", "-00:00:01", "*Evothesis:Storage:ObjectMaxAge (-00:00:01) must be between*")]
    public void Validate_BadValue_FailsAtStartNamingTheKeyAndValue(string key, string value, string expectedMessage)
    {
        var act = () => Resolve(new() { [key] = value });

        act.Should().Throw<OptionsValidationException>().WithMessage(expectedMessage);
    }

    [Test]
    public void Validate_SameBucketAndPrefixForClientAndBackup_FailsAtStart()
    {
        var act = () => Resolve(new() { ["CLIENT_S3_BUCKET"] = "same", ["BACKUP_S3_BUCKET"] = "same" });

        act.Should().Throw<OptionsValidationException>().WithMessage("*both 'same'*BackupPrefix*");
    }

    [Test]
    public void Validate_SameBucketWithABackupPrefix_IsValid()
    {
        var s3 = Resolve(new() { ["CLIENT_S3_BUCKET"] = "same", ["BACKUP_S3_BUCKET"] = "same", ["Evothesis:S3:BackupPrefix"] = "backup" });

        s3.BackupPrefix.Should().Be("backup");
    }

    [Test]
    public void CreateConfig_CompatibleEndpoint_UsesPathStyleAndSignsForUsEast1()
    {
        var config = S3ClientFactory.CreateConfig(new S3Options { ServiceUrl = "http://127.0.0.1:9000" });

        config.ServiceURL.Should().StartWith("http://127.0.0.1:9000");
        config.ForcePathStyle.Should().BeTrue();
        config.AuthenticationRegion.Should().Be("us-east-1");
    }

    [Test]
    public void CreateConfig_AwsRegion_UsesVirtualHostsInThatRegion()
    {
        var config = S3ClientFactory.CreateConfig(new S3Options { Region = "eu-central-1" });

        config.RegionEndpoint.SystemName.Should().Be("eu-central-1");
        config.ForcePathStyle.Should().BeFalse();
        config.ServiceURL.Should().BeNull();
    }

    [Test]
    public void CreateConfig_ExplicitPathStyle_Wins()
    {
        S3ClientFactory.CreateConfig(new S3Options { ServiceUrl = "http://minio:9000", ForcePathStyle = false }).ForcePathStyle.Should().BeFalse();
        S3ClientFactory.CreateConfig(new S3Options { ForcePathStyle = true }).ForcePathStyle.Should().BeTrue();
    }

    [Test]
    public void GetConfiguredCredentials_KeysInConfiguration_AreUsedElseTheDefaultChain()
    {
        var configured = S3ClientFactory.GetConfiguredCredentials(new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["AWS_ACCESS_KEY_ID"] = "AKIDEXAMPLE",
            ["AWS_SECRET_ACCESS_KEY"] = "secret",
        }).Build());

        configured!.GetCredentials().AccessKey.Should().Be("AKIDEXAMPLE");
        S3ClientFactory.GetConfiguredCredentials(new ConfigurationBuilder().Build()).Should().BeNull();
    }

    private static S3Options Resolve(Dictionary<string, string?> settings)
    {
        var root = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        var services = new ServiceCollection();
        services.AddSingleton<IConfiguration>(root);
        services.AddEvothesisCollector(root.GetSection("Evothesis")).AddS3ObjectStorage();
        using var provider = services.BuildServiceProvider();

        // Both sections, as the host validates both at start: Evothesis:Storage belongs to the core, Evothesis:S3 to the S3 package.
        _ = provider.GetRequiredService<IOptions<CollectorOptions>>().Value;
        return provider.GetRequiredService<IOptions<S3Options>>().Value;
    }
}
