using Evothesis.Collector.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Evothesis.Collector.Tests.Authorization;

[TestFixture]
[CancelAfter(60_000)]
public sealed class PixelManagementHealthCheckTests
{
    private FakePixelManagement _pm = null!;

    [SetUp]
    public async Task SetUp() => _pm = await FakePixelManagement.StartAsync();

    [TearDown]
    public async Task TearDown() => await _pm.DisposeAsync();

    [Test]
    public async Task CheckHealth_PixelManagementAnswering_IsHealthy()
    {
        await using var services = Create(_pm.Url);

        var report = await CheckAsync(services);

        report.Status.Should().Be(HealthStatus.Healthy);
        report.Description.Should().Contain("pixel-management");
        _pm.Targets.Should().Equal("/api/v1/config/domain/evothesis-health-check.invalid");
    }

    [Test]
    public async Task CheckHealth_PixelManagementDownWithCachedConfigurations_IsDegraded()
    {
        _pm.SetClient("shop.acme.com", "client_acme");
        await using var services = Create(_pm.Url);
        await services.AuthorizeAsync("shop.acme.com");
        await _pm.StopAsync();

        var report = await CheckAsync(services);

        report.Status.Should().Be(HealthStatus.Degraded);
        report.Description.Should().Contain("pixel-management is unreachable").And.Contain("serving 1 cached client configuration(s)");
        report.Data["cached_configurations"].Should().Be(1L);
    }

    [Test]
    public async Task CheckHealth_PixelManagementFailingWithNothingCached_IsUnhealthy()
    {
        _pm.Mode = FakeMode.Failing;
        await using var services = Create(_pm.Url);

        var report = await CheckAsync(services);

        report.Status.Should().Be(HealthStatus.Unhealthy);
        report.Description.Should().Contain("pixel-management");
        report.Data["error"].Should().Be("500");
        report.Data.Should().NotContainKey("seconds_since_answer", "pixel-management never answered");
    }

    [Test]
    public async Task CheckHealth_CachedConfigurationsPastTheStaleLimit_IsUnhealthy()
    {
        _pm.SetClient("shop.acme.com", "client_acme");
        await using var services = Create(_pm.Url);
        await services.AuthorizeAsync("shop.acme.com");
        await _pm.StopAsync();
        services.Time!.Advance(TimeSpan.FromHours(25));

        (await CheckAsync(services)).Status.Should().Be(HealthStatus.Unhealthy);
    }

    [Test]
    public async Task CheckHealth_PixelManagementNotConfigured_IsHealthy()
    {
        var collection = new ServiceCollection();
        collection.AddEvothesisCollector(o => o.Authorization.ClientsFile = Path.Combine(Path.GetTempPath(), "missing-" + Guid.NewGuid() + ".json"));
        collection.AddHealthChecks().AddEvothesisCollector();
        await using var provider = collection.BuildServiceProvider();

        var report = await provider.GetRequiredService<HealthCheckService>().CheckHealthAsync(r => r.Name == "evothesis-pixel-management");

        report.Entries["evothesis-pixel-management"].Status.Should().Be(HealthStatus.Healthy);
        report.Entries["evothesis-pixel-management"].Description.Should().Contain("not used");
    }

    [Test]
    public async Task CheckHealth_ManyChecksWithinTheCacheDuration_ProbePixelManagementOnce()
    {
        await using var services = Create(_pm.Url);

        for (var i = 0; i < 20; i++)
        {
            (await CheckAsync(services)).Status.Should().Be(HealthStatus.Healthy);
            services.Time!.Advance(TimeSpan.FromMilliseconds(200));
        }

        _pm.TotalCalls.Should().Be(1, "20 checks within 4 s of the first probe reuse its answer");
        services.Time!.Advance(TimeSpan.FromSeconds(1));
        await CheckAsync(services);
        _pm.TotalCalls.Should().Be(2, "the answer is 5 s old");
    }

    [Test]
    public async Task CheckHealth_ConcurrentChecks_ShareOneProbe()
    {
        _pm.Mode = FakeMode.Slow;
        await using var services = Create(_pm.Url);

        var checks = Enumerable.Range(0, 10).Select(_ => CheckAsync(services)).ToArray();
        await _pm.FirstArrival;
        _pm.Release();
        var reports = await Task.WhenAll(checks);

        reports.Should().OnlyContain(r => r.Status == HealthStatus.Healthy);
        _pm.TotalCalls.Should().Be(1);
    }

    [Test]
    public async Task CheckHealth_CachedAnswer_StillReportsTheCurrentCacheFigures()
    {
        _pm.SetClient("shop.acme.com", "client_acme");
        await using var services = Create(_pm.Url);
        (await CheckAsync(services)).Data["cached_configurations"].Should().Be(0L);

        await services.AuthorizeAsync("shop.acme.com");

        (await CheckAsync(services)).Data["cached_configurations"].Should().Be(1L);
        _pm.CallsFor("evothesis-health-check.invalid").Should().Be(1);
    }

    [Test]
    public async Task CheckHealth_CacheDurationZero_ProbesOnEveryCheck()
    {
        await using var services = PixelManagementServices.Create(
            _pm.Url,
            o => o.HealthCheckCacheDuration = TimeSpan.Zero,
            configureServices: s => s.AddHealthChecks().AddEvothesisCollector());

        for (var i = 0; i < 3; i++)
        {
            await CheckAsync(services);
        }

        _pm.TotalCalls.Should().Be(3);
    }

    [Test]
    public async Task CheckHealth_ReportsHowLongAgoPixelManagementLastAnsweredAndLastFailed()
    {
        await using var services = Create(_pm.Url);

        var answering = await CheckAsync(services);
        answering.Data["seconds_since_answer"].Should().Be(0.0);
        answering.Data.Should().NotContainKey("seconds_since_failure");

        services.Time!.Advance(TimeSpan.FromSeconds(7));
        _pm.Mode = FakeMode.Failing;
        var failing = await CheckAsync(services);

        failing.Status.Should().Be(HealthStatus.Unhealthy);
        failing.Data["seconds_since_answer"].Should().Be(7.0);
        failing.Data["seconds_since_failure"].Should().Be(0.0);

        services.Time.Advance(TimeSpan.FromSeconds(6));
        _pm.Mode = FakeMode.Normal;
        var recovered = await CheckAsync(services);

        recovered.Status.Should().Be(HealthStatus.Healthy);
        recovered.Data["seconds_since_answer"].Should().Be(0.0);
        recovered.Data["seconds_since_failure"].Should().Be(6.0);
    }

    [Test]
    public async Task CheckHealth_Probes_AreMeasuredLikeLookups()
    {
        await using var services = Create(_pm.Url);
        using var duration = services.Collect<double>("evothesis.collector.authorization.upstream.duration");
        using var failures = services.Collect<long>("evothesis.collector.authorization.upstream.failures");

        await CheckAsync(services);
        services.Time!.Advance(TimeSpan.FromSeconds(6));
        _pm.Mode = FakeMode.Failing;
        await CheckAsync(services);

        duration.GetMeasurementSnapshot().Select(m => (string?)m.Tags["outcome"]).Should().Equal("not_found", "failure");
        duration.GetMeasurementSnapshot().Should().OnlyContain(m => (string?)m.Tags["lookup"] == "domain");
        failures.GetMeasurementSnapshot().Should().ContainSingle().Which.Tags["error.type"].Should().Be("500");
    }

    [Test]
    public async Task CheckHealth_CountsDomainsClientsAndConfigurationsApart()
    {
        _pm.SetClient("shop.acme.com", "client_acme");
        await using var services = Create(_pm.Url);
        await services.AuthorizeAsync("shop.acme.com");
        await services.AuthorizeAsync("unknown.example");
        await services.FindClientAsync("client_acme");

        var report = await CheckAsync(services);

        report.Data["cached_domains"].Should().Be(2);
        report.Data["cached_clients"].Should().Be(1L);
        report.Data["cached_configurations"].Should().Be(1L, "only domains' configurations keep /collect working");
    }

    [Test]
    public async Task CheckHealth_CachedConfigurationsReachingTheStaleLimit_TurnUnhealthy()
    {
        _pm.SetClient("shop.acme.com", "client_acme");
        await using var services = PixelManagementServices.Create(
            _pm.Url, o => o.StaleCacheLimit = TimeSpan.FromHours(1), configureServices: s => s.AddHealthChecks().AddEvothesisCollector());
        await services.AuthorizeAsync("shop.acme.com");
        await _pm.StopAsync();

        services.Time!.Advance(TimeSpan.FromHours(1) - TimeSpan.FromTicks(1));
        (await CheckAsync(services)).Status.Should().Be(HealthStatus.Degraded);

        services.Time.Advance(TimeSpan.FromTicks(1));
        (await CheckAsync(services)).Status.Should().Be(HealthStatus.Unhealthy);
    }

    private static PixelManagementServices Create(string url) =>
        PixelManagementServices.Create(url, configureServices: s => s.AddHealthChecks().AddEvothesisCollector());

    private static async Task<HealthReportEntry> CheckAsync(PixelManagementServices services)
    {
        var report = await services.Provider.GetRequiredService<HealthCheckService>()
            .CheckHealthAsync(r => r.Name == "evothesis-pixel-management");
        return report.Entries["evothesis-pixel-management"];
    }
}
