using Evothesis.Collector.Authorization;

namespace Evothesis.Collector.Tests.Support;

/// <summary>A directory whose source is down: every lookup throws <see cref="ClientDirectoryUnavailableException"/>.</summary>
internal sealed class UnavailableClientDirectory : IClientDirectory
{
    public ValueTask<ClientConfig?> FindClientAsync(string clientId, CancellationToken cancellationToken) =>
        throw new ClientDirectoryUnavailableException("pixel-management is unreachable") { RetryAfter = TimeSpan.FromSeconds(7) };
}

/// <summary>A directory that knows one client.</summary>
internal sealed class SingleClientDirectory : IClientDirectory
{
    public static readonly ClientConfig Client = new() { ClientId = "client_single", PrivacyLevel = PrivacyLevel.Hipaa };

    public ValueTask<ClientConfig?> FindClientAsync(string clientId, CancellationToken cancellationToken) =>
        ValueTask.FromResult(clientId == Client.ClientId ? Client : null);
}

/// <summary>An authorizer that authorizes nothing and cannot look clients up by id.</summary>
internal sealed class RefusingDomainAuthorizer : IDomainAuthorizer
{
    public ValueTask<DomainAuthorization> AuthorizeAsync(string domain, CancellationToken cancellationToken) =>
        ValueTask.FromResult(DomainAuthorization.Unauthorized);
}
