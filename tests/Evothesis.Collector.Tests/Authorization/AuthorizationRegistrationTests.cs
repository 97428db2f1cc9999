using Evothesis.Collector.Authorization;
using Evothesis.Collector.Authorization.Internal;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Evothesis.Collector.Tests.Authorization;

[TestFixture]
public sealed class AuthorizationRegistrationTests
{
    [Test]
    public void AddEvothesisCollector_NoPixelManagementUrl_UsesTheClientsFile()
    {
        using var provider = Build(new Dictionary<string, string?>());

        provider.GetRequiredService<IDomainAuthorizer>().Should().BeOfType<ClientsFileDomainAuthorizer>();
    }

    [Test]
    public void AddEvothesisCollector_PixelManagementUrlInTheEvothesisSection_UsesPixelManagement()
    {
        using var provider = Build(new Dictionary<string, string?> { ["Evothesis:Authorization:PixelManagementUrl"] = "http://pm.internal:8001" });

        provider.GetRequiredService<IDomainAuthorizer>().Should().BeOfType<HttpDomainAuthorizer>();
    }

    [Test]
    public void AddEvothesisCollector_PixelManagementUrlEnvironmentAlias_UsesPixelManagement()
    {
        using var provider = Build(new Dictionary<string, string?> { ["PIXEL_MANAGEMENT_URL"] = " http://pm.internal:8001 " });

        provider.GetRequiredService<IOptions<CollectorOptions>>().Value.Authorization.PixelManagementUrl.Should().Be("http://pm.internal:8001");
        provider.GetRequiredService<IDomainAuthorizer>().Should().BeOfType<HttpDomainAuthorizer>();
    }

    [Test]
    public void AddEvothesisCollector_EmptyUrls_UseTheClientsFile()
    {
        using var provider = Build(new Dictionary<string, string?>
        {
            ["PIXEL_MANAGEMENT_URL"] = "",
            ["Evothesis:Authorization:PixelManagementUrl"] = " ",
        });

        provider.GetRequiredService<IDomainAuthorizer>().Should().BeOfType<ClientsFileDomainAuthorizer>();
    }

    [Test]
    public void AddEvothesisCollector_BothSet_TheEvothesisSectionWins()
    {
        using var provider = Build(new Dictionary<string, string?>
        {
            ["PIXEL_MANAGEMENT_URL"] = "http://alias.internal",
            ["Evothesis:Authorization:PixelManagementUrl"] = "http://section.internal",
        });

        provider.GetRequiredService<IOptions<CollectorOptions>>().Value.Authorization.PixelManagementUrl.Should().Be("http://section.internal");
    }

    [Test]
    public void AddEvothesisCollector_WithoutConfigurationInTheContainer_KeepsDefaults()
    {
        var services = new ServiceCollection();
        services.AddEvothesisCollector();
        using var provider = services.BuildServiceProvider();

        provider.GetRequiredService<IOptions<CollectorOptions>>().Value.Authorization.PixelManagementUrl.Should().BeNull();
    }

    [Test]
    public void AddEvothesisCollector_HostRegisteredAuthorizer_WinsOverPixelManagement()
    {
        var before = Build(
            new Dictionary<string, string?> { ["PIXEL_MANAGEMENT_URL"] = "http://pm.internal" },
            s => s.AddSingleton<IDomainAuthorizer, AllowAllAuthorizer>());
        using (before)
        {
            before.GetRequiredService<IDomainAuthorizer>().Should().BeOfType<AllowAllAuthorizer>();
        }

        using var replaced = Build(
            new Dictionary<string, string?> { ["PIXEL_MANAGEMENT_URL"] = "http://pm.internal" },
            after: s => new CollectorBuilder(s).UseDomainAuthorizer<AllowAllAuthorizer>());
        replaced.GetRequiredService<IDomainAuthorizer>().Should().BeOfType<AllowAllAuthorizer>();
    }

    [TestCase("pm.internal:8001", "absolute http or https")]
    [TestCase("ftp://pm.internal", "absolute http or https")]
    [TestCase("http://user:secret@pm.internal", "user information")]
    [TestCase("http://pm.internal/?tenant=1", "query")]
    public void Options_InvalidPixelManagementUrl_FailWithTheKeyAndWithoutCredentials(string url, string message)
    {
        using var provider = Build(new Dictionary<string, string?> { ["PIXEL_MANAGEMENT_URL"] = url });

        var act = () => provider.GetRequiredService<IOptions<CollectorOptions>>().Value;

        act.Should().Throw<OptionsValidationException>()
            .Which.Message.Should().Contain("Evothesis:Authorization:PixelManagementUrl").And.Contain(message).And.NotContain("secret");
    }

    [Test]
    public void Options_InconsistentBudgetsAndTtls_FailWithTheBadValues()
    {
        using var provider = Build(new Dictionary<string, string?>
        {
            ["Evothesis:Authorization:PixelManagementTimeout"] = "00:00:01",
            ["Evothesis:Authorization:PixelManagementAttemptTimeout"] = "00:00:02",
            ["Evothesis:Authorization:PositiveCacheDuration"] = "01:00:00",
            ["Evothesis:Authorization:StaleCacheLimit"] = "00:10:00",
            ["Evothesis:Authorization:CacheSizeLimit"] = "1",
            ["Evothesis:Authorization:PixelManagementMaxRetries"] = "-1",
        });

        var act = () => provider.GetRequiredService<IOptions<CollectorOptions>>().Value;

        act.Should().Throw<OptionsValidationException>().Which.Failures.Should().Contain(f => f.Contains("PixelManagementAttemptTimeout (00:00:02)"))
            .And.Contain(f => f.Contains("StaleCacheLimit (00:10:00)"))
            .And.Contain(f => f.Contains("CacheSizeLimit (1)"))
            .And.Contain(f => f.Contains("PixelManagementMaxRetries (-1)"));
    }

    [Test]
    public void Options_Defaults_AreTheDocumentedOnes()
    {
        var options = new AuthorizationOptions();

        options.PixelManagementUrl.Should().BeNull();
        options.PixelManagementTimeout.Should().Be(TimeSpan.FromSeconds(3));
        options.PixelManagementAttemptTimeout.Should().Be(TimeSpan.FromSeconds(1));
        options.PixelManagementMaxRetries.Should().Be(2);
        options.PositiveCacheDuration.Should().Be(TimeSpan.FromMinutes(5));
        options.NegativeCacheDuration.Should().Be(TimeSpan.FromMinutes(1));
        options.StaleCacheLimit.Should().Be(TimeSpan.FromHours(24));
        options.CacheSizeLimit.Should().Be(100_000);
        options.RequireOrigin.Should().BeFalse();
        options.HealthCheckCacheDuration.Should().Be(TimeSpan.FromSeconds(5));
        options.LookupBudget.Enabled.Should().BeTrue();
        options.LookupBudget.PermitsPerSecond.Should().Be(100);
        options.LookupBudget.Burst.Should().Be(500);
        options.LookupBudget.PermitsPerSecondPerClient.Should().Be(5);
        options.LookupBudget.BurstPerClient.Should().Be(50);
    }

    [Test]
    public void Options_LookupBudgetFromConfiguration_IsBound()
    {
        using var provider = Build(new Dictionary<string, string?>
        {
            ["Evothesis:Authorization:LookupBudget:PermitsPerSecond"] = "20.5",
            ["Evothesis:Authorization:LookupBudget:Burst"] = "40",
            ["Evothesis:Authorization:LookupBudget:PermitsPerSecondPerClient"] = "0.5",
            ["Evothesis:Authorization:LookupBudget:BurstPerClient"] = "4",
            ["Evothesis:Authorization:LookupBudget:Enabled"] = "false",
            ["Evothesis:Authorization:HealthCheckCacheDuration"] = "00:00:30",
        });

        var authorization = provider.GetRequiredService<IOptions<CollectorOptions>>().Value.Authorization;

        authorization.LookupBudget.Should().BeEquivalentTo(new LookupBudgetOptions
        {
            PermitsPerSecond = 20.5,
            Burst = 40,
            PermitsPerSecondPerClient = 0.5,
            BurstPerClient = 4,
            Enabled = false,
        });
        authorization.HealthCheckCacheDuration.Should().Be(TimeSpan.FromSeconds(30));
    }

    [Test]
    public void Options_InvalidLookupBudget_FailsWithTheKeysAndTheBadValues()
    {
        using var provider = Build(new Dictionary<string, string?>
        {
            ["Evothesis:Authorization:LookupBudget:PermitsPerSecond"] = "0",
            ["Evothesis:Authorization:LookupBudget:Burst"] = "10",
            ["Evothesis:Authorization:LookupBudget:BurstPerClient"] = "20",
            ["Evothesis:Authorization:LookupBudget:PermitsPerSecondPerClient"] = "-1",
            ["Evothesis:Authorization:HealthCheckCacheDuration"] = "-00:00:01",
        });

        var act = () => provider.GetRequiredService<IOptions<CollectorOptions>>().Value;

        act.Should().Throw<OptionsValidationException>().Which.Failures.Should()
            .Contain(f => f.Contains("Evothesis:Authorization:LookupBudget:PermitsPerSecond (0)"))
            .And.Contain(f => f.Contains("Evothesis:Authorization:LookupBudget:PermitsPerSecondPerClient (-1)"))
            .And.Contain(f => f.Contains("Evothesis:Authorization:LookupBudget:BurstPerClient (20) must not exceed Evothesis:Authorization:LookupBudget:Burst (10)"))
            .And.Contain(f => f.Contains("Evothesis:Authorization:HealthCheckCacheDuration (-00:00:01)"));
    }

    [Test]
    public void ResilienceOptions_TunedToTheBudget()
    {
        using var provider = Build(new Dictionary<string, string?>
        {
            ["PIXEL_MANAGEMENT_URL"] = "http://pm.internal",
            ["Evothesis:Authorization:PixelManagementTimeout"] = "00:00:02",
        });

        var resilience = provider.GetRequiredService<IOptionsMonitor<Microsoft.Extensions.Http.Resilience.HttpStandardResilienceOptions>>()
            .Get(AuthorizationOptions.PixelManagementHttpClientName + "-standard");

        resilience.TotalRequestTimeout.Timeout.Should().Be(TimeSpan.FromSeconds(2));
        resilience.AttemptTimeout.Timeout.Should().Be(TimeSpan.FromSeconds(1));
        resilience.Retry.MaxRetryAttempts.Should().Be(2);
        resilience.Retry.ShouldRetryAfterHeader.Should().BeFalse();
        resilience.CircuitBreaker.MinimumThroughput.Should().BeLessThan(100);
    }

    private static ServiceProvider Build(
        Dictionary<string, string?> settings,
        Action<IServiceCollection>? before = null,
        Action<IServiceCollection>? after = null)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        var services = new ServiceCollection();
        services.AddSingleton<IConfiguration>(configuration);
        before?.Invoke(services);
        services.AddEvothesisCollector(configuration.GetSection("Evothesis"));
        after?.Invoke(services);
        return services.BuildServiceProvider();
    }

    private sealed class AllowAllAuthorizer : IDomainAuthorizer
    {
        public ValueTask<DomainAuthorization> AuthorizeAsync(string domain, CancellationToken cancellationToken) =>
            ValueTask.FromResult(DomainAuthorization.Authorized(new ClientConfig { ClientId = "all" }));
    }
}
