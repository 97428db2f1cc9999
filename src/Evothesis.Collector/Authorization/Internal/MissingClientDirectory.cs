namespace Evothesis.Collector.Authorization.Internal;

/// <summary>
/// The directory registered when the domain authorizer cannot look clients up by id: every lookup fails
/// with the registration the host is missing, instead of answering "no such client" for every client.
/// </summary>
internal sealed class MissingClientDirectory(Type authorizerType) : IClientDirectory
{
    public ValueTask<ClientConfig?> FindClientAsync(string clientId, CancellationToken cancellationToken) =>
        throw new ClientDirectoryUnavailableException(
            $"The domain authorizer '{authorizerType.Name}' does not look clients up by id. Register a client directory " +
            "with 'AddEvothesisCollector().UseClientDirectory<T>()'.");
}
