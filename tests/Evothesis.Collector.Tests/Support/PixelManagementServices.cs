using Evothesis.Collector.Authorization;
using Evothesis.Collector.Authorization.Internal;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Time.Testing;

namespace Evothesis.Collector.Tests.Support;

/// <summary>A service provider with the collector pointed at a <see cref="FakePixelManagement"/>.</summary>
public sealed class PixelManagementServices : IAsyncDisposable
{
    private PixelManagementServices(ServiceProvider provider, FakeTimeProvider? time)
    {
        Provider = provider;
        Time = time;
    }

    public ServiceProvider Provider { get; }

    public FakeTimeProvider? Time { get; }

    internal HttpDomainAuthorizer Authorizer => (HttpDomainAuthorizer)Provider.GetRequiredService<IDomainAuthorizer>();

    public FakeLogCollector Logs => Provider.GetFakeLogCollector();

    /// <summary>Builds the services.</summary>
    /// <param name="url">The pixel-management base URL.</param>
    /// <param name="configure">Changes authorization options.</param>
    /// <param name="fakeTime">Drive the cache's TTLs with a <see cref="FakeTimeProvider"/>.</param>
    /// <param name="configureServices">Further registrations, after the collector's.</param>
    public static PixelManagementServices Create(
        string url,
        Action<AuthorizationOptions>? configure = null,
        bool fakeTime = true,
        Action<IServiceCollection>? configureServices = null)
    {
        var services = new ServiceCollection();
        FakeTimeProvider? time = null;
        if (fakeTime)
        {
            // The cache's clock is fake; the HTTP client's resilience pipeline (retry delays, timeouts) keeps the
            // real one, as it would if the fake were the host's TimeProvider and the test moved it for every delay.
            var fake = new FakeTimeProvider(new DateTimeOffset(2026, 11, 26, 12, 0, 0, TimeSpan.Zero));
            time = fake;
            services.AddSingleton(sp => CreateAuthorizer(sp, fake));
        }

        // Debug records too: what the authorizer logs at every level is checked for salts, domains and addresses.
        services.AddFakeLogging();
        services.AddLogging(b => b.SetMinimumLevel(LogLevel.Debug));
        services.AddEvothesisCollector(o =>
        {
            o.Authorization.PixelManagementUrl = url;
            configure?.Invoke(o.Authorization);
        });
        configureServices?.Invoke(services);
        return new PixelManagementServices(services.BuildServiceProvider(validateScopes: true), time);
    }

    internal static HttpDomainAuthorizer CreateAuthorizer(IServiceProvider sp, TimeProvider time) =>
        new(
            sp.GetRequiredService<PixelManagementClient>,
            sp.GetRequiredService<IOptions<CollectorOptions>>(),
            time,
            sp.GetRequiredService<AuthorizationMetrics>(),
            sp.GetRequiredService<ILogger<HttpDomainAuthorizer>>());

    public ValueTask<DomainAuthorization> AuthorizeAsync(string domain) =>
        Provider.GetRequiredService<IDomainAuthorizer>().AuthorizeAsync(domain, CancellationToken.None);

    public ValueTask<ClientConfig?> FindClientAsync(string clientId) =>
        Provider.GetRequiredService<IClientDirectory>().FindClientAsync(clientId, CancellationToken.None);

    public MetricCollector<T> Collect<T>(string instrument)
        where T : struct =>
        new(Provider.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>(), "Evothesis.Collector", instrument);

    /// <summary>Waits for the background refresh of a domain, if one runs.</summary>
    public Task WhenRefreshedAsync(string domain) => Authorizer.GetLookupInFlight(domain) ?? Task.CompletedTask;

    /// <summary>Waits for the background refresh of a client id, if one runs.</summary>
    public Task WhenClientRefreshedAsync(string clientId) => Authorizer.GetClientLookupInFlight(clientId) ?? Task.CompletedTask;

    public async ValueTask DisposeAsync() => await Provider.DisposeAsync();
}
