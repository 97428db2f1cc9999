using System.Collections.Frozen;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Evothesis.Collector.Authorization.Internal;

/// <summary>
/// The embedded authorizer: a JSON file mapping domains to client configurations, for development and
/// for deployments without pixel-management. Loaded at start, where a broken file stops the start, and again
/// when it changes (<see cref="AuthorizationOptions.ReloadClientsFileOnChange"/>, checked every
/// <see cref="AuthorizationOptions.ClientsFileCheckInterval"/>), where a broken or removed file is refused and the
/// last valid one stays in force. Also the default <see cref="IClientDirectory"/>: the same file answers lookups by
/// client id.
/// </summary>
internal sealed class ClientsFileDomainAuthorizer : IDomainAuthorizer, IClientDirectory, IDisposable
{
    private readonly string _path;
    private readonly ILogger _logger;
    private readonly ITimer? _checkTimer;
    private readonly Lock _reloadLock = new();
    private volatile Snapshot _current;
    private FileStamp _stamp; // guarded by _reloadLock
    private FileStamp _failedRead; // guarded by _reloadLock

    public ClientsFileDomainAuthorizer(
        IOptions<CollectorOptions> options,
        CollectorPaths paths,
        TimeProvider timeProvider,
        ILogger<ClientsFileDomainAuthorizer> logger)
    {
        _path = paths.Resolve(options.Value.Authorization.ClientsFile);
        _logger = logger;
        _stamp = FileStamp.Of(_path);
        _current = Snapshot.Of(Load(_path, logger));

        var authorization = options.Value.Authorization;
        if (authorization.ReloadClientsFileOnChange && authorization.ClientsFileCheckInterval > TimeSpan.Zero)
        {
            _checkTimer = timeProvider.CreateTimer(
                static state => ((ClientsFileDomainAuthorizer)state!).ReloadIfChanged(),
                this,
                authorization.ClientsFileCheckInterval,
                authorization.ClientsFileCheckInterval);
        }
    }

    /// <summary>Gets the domains the file authorizes.</summary>
    public IEnumerable<string> Domains => _current.Clients.Keys;

    public ValueTask<DomainAuthorization> AuthorizeAsync(string domain, CancellationToken cancellationToken) =>
        ValueTask.FromResult(_current.Clients.GetValueOrDefault(domain) ?? DomainAuthorization.Unauthorized);

    public ValueTask<ClientConfig?> FindClientAsync(string clientId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(clientId);
        return ValueTask.FromResult(_current.ByClientId.GetValueOrDefault(clientId));
    }

    public void Dispose() => _checkTimer?.Dispose();

    /// <summary>Reads the file again when its size or last write time changed since it was last read.</summary>
    internal void ReloadIfChanged()
    {
        lock (_reloadLock)
        {
            // The stamp is taken before reading: a write that lands while the file is read changes it again, so the
            // next check reads the file once more.
            FileStamp stamp;
            try
            {
                stamp = FileStamp.Of(_path);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                return; // Not readable now: checked again at the next tick.
            }

            if (stamp == _stamp)
            {
                return;
            }

            var previous = _stamp;
            _stamp = stamp;
            try
            {
                _current = Snapshot.Of(Load(_path, _logger, mustExist: true));
                _failedRead = default;
            }
            catch (Exception ex) when (ex is IOException and not FileNotFoundException or UnauthorizedAccessException)
            {
                // Could not be read now (a writer still holds it, a permission being changed): read it again at the
                // next tick, and log the failure once per version of the file.
                _stamp = previous;
                if (_failedRead != stamp)
                {
                    _failedRead = stamp;
                    AuthorizationLog.ClientsFileRefused(_logger, _path, ex);
                }
            }
            catch (Exception ex)
            {
                // Invalid or removed. Runs on a timer: nothing may escape, and the last valid file stays in force.
                AuthorizationLog.ClientsFileRefused(_logger, _path, ex);
            }
        }
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

    internal static FrozenDictionary<string, DomainAuthorization> Load(string path, ILogger logger, bool mustExist = false)
    {
        if (!File.Exists(path))
        {
            if (mustExist)
            {
                throw new FileNotFoundException("The clients file was removed.", path);
            }

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

        // "null" would otherwise read as a file with no clients: written by mistake over a good file, it would
        // refuse every domain at the next check.
        if (documents is null)
        {
            throw new InvalidOperationException(
                $"The clients file '{path}' is JSON null. It must be an object mapping domains to client configurations ({{}} for none).");
        }

        var clients = new Dictionary<string, DomainAuthorization>(StringComparer.Ordinal);
        foreach (var (key, document) in documents)
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

    // Of the file the path finally resolves to: a mounted volume (a Kubernetes ConfigMap) replaces its files by
    // swapping a symbolic link further up, which leaves the link at the path itself unchanged.
    private readonly record struct FileStamp(string? Target, long Length, DateTime LastWriteUtc)
    {
        public static FileStamp Of(string path)
        {
            var file = new FileInfo(path);
            if (file.LinkTarget is not null)
            {
                file = file.ResolveLinkTarget(returnFinalTarget: true) as FileInfo ?? file;
            }

            return file.Exists ? new FileStamp(file.FullName, file.Length, file.LastWriteTimeUtc) : default;
        }
    }

    private sealed record Snapshot(
        FrozenDictionary<string, DomainAuthorization> Clients,
        FrozenDictionary<string, ClientConfig> ByClientId)
    {
        public static Snapshot Of(FrozenDictionary<string, DomainAuthorization> clients) => new(clients, IndexByClientId(clients));
    }
}
