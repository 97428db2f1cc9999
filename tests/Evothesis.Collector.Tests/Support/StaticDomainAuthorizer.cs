using Evothesis.Collector.Authorization;

namespace Evothesis.Collector.Tests.Support;

/// <summary>Authorizes a fixed set of domains, each with its client configuration.</summary>
public sealed class StaticDomainAuthorizer(IReadOnlyDictionary<string, ClientConfig> clients) : IDomainAuthorizer
{
    public ValueTask<DomainAuthorization> AuthorizeAsync(string domain, CancellationToken cancellationToken) =>
        ValueTask.FromResult(clients.TryGetValue(domain, out var client)
            ? DomainAuthorization.Authorized(client)
            : DomainAuthorization.Unauthorized);
}
