using System.Collections.Frozen;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Evothesis.Collector.Authorization.Internal;

/// <summary>
/// The embedded authorizer: a JSON file mapping domains to client configurations, for development and
/// for deployments without pixel-management. Loaded once at start; a broken file stops the start.
/// Also the default <see cref="IClientDirectory"/>: the same file answers lookups by client id.
/// </summary>
internal sealed class ClientsFileDomainAuthorizer : IDomainAuthorizer, IClientDirectory
{
    private readonly FrozenDictionary<string, DomainAuthorization> _clients;
    private readonly FrozenDictionary<string, ClientConfig> _byClientId;

    public ClientsFileDomainAuthorizer(IOptions<CollectorOptions> options, CollectorPaths paths, ILogger<ClientsFileDomainAuthorizer> logger)
    {
        var path = paths.Resolve(options.Value.Authorization.ClientsFile);
        _clients = Load(path, logger);
        _byClientId = IndexByClientId(_clients);
    }

    /// <summary>Gets the domains the file authorizes.</summary>
    public IEnumerable<string> Domains => _clients.Keys;

    public ValueTask<DomainAuthorization> AuthorizeAsync(string domain, CancellationToken cancellationToken) =>
        ValueTask.FromResult(_clients.GetValueOrDefault(domain) ?? DomainAuthorization.Unauthorized);

    public ValueTask<ClientConfig?> FindClientAsync(string clientId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(clientId);
        return ValueTask.FromResult(_byClientId.GetValueOrDefault(clientId));
    }

    // A client usually owns several domains with one configuration. Should the file give its domains
    // different ones, a lookup by id answers with the strictest privacy level among them: a client-wide
    // view (such as its tracking script) must never be laxer than any of its domains.
    internal static FrozenDictionary<string, ClientConfig> IndexByClientId(FrozenDictionary<string, DomainAuthorization> clients)
    {
        var byId = new Dictionary<string, ClientConfig>(StringComparer.Ordinal);
        foreach (var authorization in clients.Values)
        {
            var config = authorization.Client!;
            if (!byId.TryGetValue(config.ClientId, out var existing) || config.PrivacyLevel > existing.PrivacyLevel)
            {
                byId[config.ClientId] = config;
            }
        }

        return byId.ToFrozenDictionary(StringComparer.Ordinal);
    }

    internal static FrozenDictionary<string, DomainAuthorization> Load(string path, ILogger logger)
    {
        if (!File.Exists(path))
        {
            AuthorizationLog.ClientsFileMissing(logger, path);
            return FrozenDictionary<string, DomainAuthorization>.Empty;
        }

        Dictionary<string, ClientConfigDocument>? documents;
        try
        {
            using var stream = File.OpenRead(path);
            documents = JsonSerializer.Deserialize(stream, AuthorizationJsonContext.Default.DictionaryStringClientConfigDocument);
        }
        catch (JsonException ex)
        {
            throw new InvalidOperationException(
                $"The clients file '{path}' is not valid JSON (line {ex.LineNumber + 1}). It must be an object mapping domains to client configurations.",
                ex);
        }

        var clients = new Dictionary<string, DomainAuthorization>(StringComparer.Ordinal);
        foreach (var (key, document) in documents ?? [])
        {
            if (!DomainName.TryNormalizeHost(key, out var domain))
            {
                throw new InvalidOperationException($"The clients file '{path}' names '{key}', which is not a valid domain name.");
            }

            if (document is null)
            {
                throw new InvalidOperationException($"The clients file '{path}' has a null configuration for '{key}'.");
            }

            if (!document.TryToClientConfig(out var config, out var error))
            {
                throw new InvalidOperationException($"The clients file '{path}' has an invalid configuration for '{key}': {error}.");
            }

            clients[domain] = DomainAuthorization.Authorized(config);
        }

        AuthorizationLog.ClientsFileLoaded(logger, path, clients.Count);
        return clients.ToFrozenDictionary(StringComparer.Ordinal);
    }
}
