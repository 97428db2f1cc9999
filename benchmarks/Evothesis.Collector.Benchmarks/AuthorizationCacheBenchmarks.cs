using System.Net;
using System.Text;
using BenchmarkDotNet.Attributes;
using Evothesis.Collector.Authorization;
using Microsoft.Extensions.DependencyInjection;

namespace Evothesis.Collector.Benchmarks;

/// <summary>
/// The cost <c>/collect</c> pays for domain authorization once pixel-management's answer is cached: the hit path of
/// the HTTP authorizer (expected: no allocation), next to the clients file's dictionary lookup; and the same for a
/// client directory lookup by id (the tracking script's path), whose cache key is built on the stack.
/// </summary>
[MemoryDiagnoser]
public class AuthorizationCacheBenchmarks
{
    private ServiceProvider _pixelManagement = null!;
    private ServiceProvider _clientsFile = null!;
    private IDomainAuthorizer _cached = null!;
    private IDomainAuthorizer _file = null!;
    private IClientDirectory _directory = null!;
    private string _clientsPath = string.Empty;

    [GlobalSetup]
    public async Task Setup()
    {
        var services = new ServiceCollection();
        services.AddEvothesisCollector(o => o.Authorization.PixelManagementUrl = "http://pixel-management.invalid");

        // The first lookup is answered in memory; every measured call is a cache hit.
        services.AddHttpClient(AuthorizationOptions.PixelManagementHttpClientName)
            .ConfigurePrimaryHttpMessageHandler(() => new CannedHandler());
        _pixelManagement = services.BuildServiceProvider();
        _cached = _pixelManagement.GetRequiredService<IDomainAuthorizer>();
        var first = await _cached.AuthorizeAsync("shop.acme.com", CancellationToken.None);
        if (first.Status != DomainAuthorizationStatus.Authorized)
        {
            throw new InvalidOperationException("The benchmark's setup lookup was not authorized.");
        }

        _directory = _pixelManagement.GetRequiredService<IClientDirectory>();
        if (await _directory.FindClientAsync("client_acme", CancellationToken.None) is null)
        {
            throw new InvalidOperationException("The benchmark's setup lookup found no client.");
        }

        _clientsPath = Path.Combine(Path.GetTempPath(), $"clients-{Guid.NewGuid():N}.json");
        await File.WriteAllTextAsync(_clientsPath, """{"shop.acme.com":{"client_id":"client_acme","privacy_level":"standard"}}""");
        var fileServices = new ServiceCollection();
        fileServices.AddEvothesisCollector(o => o.Authorization.ClientsFile = _clientsPath);
        _clientsFile = fileServices.BuildServiceProvider();
        _file = _clientsFile.GetRequiredService<IDomainAuthorizer>();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _pixelManagement.Dispose();
        _clientsFile.Dispose();
        File.Delete(_clientsPath);
    }

    [Benchmark(Baseline = true)]
    public DomainAuthorizationStatus ClientsFile() => Completed(_file.AuthorizeAsync("shop.acme.com", CancellationToken.None));

    [Benchmark]
    public DomainAuthorizationStatus PixelManagementCached() => Completed(_cached.AuthorizeAsync("shop.acme.com", CancellationToken.None));

    [Benchmark]
    public string PixelManagementClientCached()
    {
        var pending = _directory.FindClientAsync("client_acme", CancellationToken.None);
        return pending.IsCompletedSuccessfully && pending.Result is { } client
            ? client.ClientId
            : throw new InvalidOperationException("The client lookup did not complete synchronously.");
    }

    // Both answer synchronously here; a pending ValueTask would mean the cache missed, which the benchmark must not hide.
    private static DomainAuthorizationStatus Completed(ValueTask<DomainAuthorization> pending) =>
        pending.IsCompletedSuccessfully ? pending.Result.Status : throw new InvalidOperationException("The lookup did not complete synchronously.");

    private sealed class CannedHandler : HttpMessageHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
            Task.FromResult(new HttpResponseMessage(HttpStatusCode.OK)
            {
                Content = new StringContent("""{"client_id":"client_acme","privacy_level":"standard"}""", Encoding.UTF8, "application/json"),
            });
    }
}
