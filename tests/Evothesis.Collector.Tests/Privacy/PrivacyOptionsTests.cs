using Evothesis.Collector.Ingestion;
using Evothesis.Collector.Privacy.Internal;
using Evothesis.Collector.Tests.Support;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Evothesis.Collector.Tests.Privacy;

public sealed class PrivacyOptionsTests
{
    [Test]
    public async Task Bind_PrivacySection_AddsSecretKeysFormEventTypesAndMetadataKeys()
    {
        using var storage = new TempDirectory();
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Evothesis:Privacy:SecretKeys:0"] = "member_number",
            ["Evothesis:Privacy:FormEventTypes:0"] = "lead",
            ["Evothesis:Privacy:FormMetadataKeys:0"] = "campaign",
            ["Evothesis:Storage:Path"] = storage.Path,
        }).Build();
        var services = new ServiceCollection();
        services.AddEvothesisCollector(configuration.GetSection("Evothesis")).AddEventSink(new InMemoryEventSink());
        services.Replace(ServiceDescriptor.Singleton<Evothesis.Collector.Authorization.IDomainAuthorizer>(
            new StaticDomainAuthorizer(new Dictionary<string, Evothesis.Collector.Authorization.ClientConfig> { ["a.example"] = Clients.Standard() })));
        await using var provider = services.BuildServiceProvider();
        var sink = (InMemoryEventSink)provider.GetServices<Evothesis.Collector.Sinks.IEventSink>().Single();
        var batcher = provider.GetRequiredService<Evothesis.Collector.Batching.EventBatcher>();
        batcher.Start();

        var response = await provider.GetRequiredService<CollectorPipeline>().ProcessAsync(
            new CollectorRequest
            {
                Body = new MemoryStream("""{"eventType":"lead_captured","event_data":{"campaign":"spring","memberNumber":"M-1","company":"Acme"}}"""u8.ToArray()),
                Origin = "https://a.example",
            },
            CancellationToken.None);
        await batcher.StopAsync(CancellationToken.None);

        response.StatusCode.Should().Be(202);
        sink.Events.Single().EventData.ToString().Should().Be(
            """{"campaign":"spring","memberNumber":"[redacted:form_value]","company":"[redacted:form_value]"}""");
    }

    [Test]
    public void Validate_SecretKeyWithoutLettersOrDigits_FailsNamingTheKey()
    {
        var options = new CollectorOptions();
        options.Privacy.SecretKeys.Add("password");
        options.Privacy.SecretKeys.Add(" - ");

        var result = new PrivacyOptionsValidator().Validate(Options.DefaultName, options);

        result.Failed.Should().BeTrue();
        result.FailureMessage.Should().Contain("Evothesis:Privacy:SecretKeys:1 (' - ')");
    }

    [Test]
    public void Validate_Defaults_Succeed()
    {
        new PrivacyOptionsValidator().Validate(Options.DefaultName, new CollectorOptions()).Succeeded.Should().BeTrue();
    }

    [Test]
    public void Validate_SpoolSegmentSmallerThanTheLargestRequest_FailsNamingBothValues()
    {
        var options = new CollectorOptions();
        options.Limits.MaxBodyBytes = 4 * 1024 * 1024;
        options.Spool.SegmentBytes = 16 * 1024 * 1024;

        var result = new Evothesis.Collector.Batching.BatchingOptionsValidator().Validate(Options.DefaultName, options);

        result.Failed.Should().BeTrue();
        result.FailureMessage.Should().Contain("Evothesis:Spool:SegmentBytes (16777216)").And.Contain("MaxBodyBytes 4194304");
    }
}
