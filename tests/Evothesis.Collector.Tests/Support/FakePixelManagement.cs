using System.Collections.Concurrent;
using System.Net;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;

namespace Evothesis.Collector.Tests.Support;

/// <summary>How the fake pixel-management answers.</summary>
public enum FakeMode
{
    /// <summary>200 with the configured document, 404 for unknown domains and clients.</summary>
    Normal,

    /// <summary>500 for everything.</summary>
    Failing,

    /// <summary>Holds every request until <see cref="FakePixelManagement.Release"/> (or the caller gives up).</summary>
    Slow,
}

/// <summary>
/// A real HTTP pixel-management on loopback (Kestrel on 127.0.0.1, port chosen by the OS): serves
/// <c>GET /api/v1/config/domain/{domain}</c> and <c>GET /api/v1/config/client/{client_id}</c>, counts calls per
/// request target, can be made slow, failing or down.
/// </summary>
public sealed class FakePixelManagement : IAsyncDisposable
{
    public const string LookupPrefix = "/api/v1/config/domain/";
    public const string ClientLookupPrefix = "/api/v1/config/client/";

    private readonly ConcurrentDictionary<string, string> _documents = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, string> _clientDocuments = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, int> _calls = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<string> _targets = new();
    private readonly string _pathBase;
    private TaskCompletionSource _gate = NewGate();
    private TaskCompletionSource _firstArrival = NewGate();
    private WebApplication? _app;

    private FakePixelManagement(string pathBase) => _pathBase = pathBase;

    public int Port { get; private set; }

    /// <summary>Gets the base URL to configure as PixelManagementUrl.</summary>
    public string Url => $"http://127.0.0.1:{Port}{_pathBase}";

    public FakeMode Mode { get; set; } = FakeMode.Normal;

    /// <summary>Gets or sets a body to answer 200 with for every known domain and client instead of its document.</summary>
    public string? BodyOverride { get; set; }

    /// <summary>Gets every request target received (raw, as sent on the wire).</summary>
    public IReadOnlyCollection<string> Targets => _targets;

    public int TotalCalls => _targets.Count;

    /// <summary>Gets the headers of the most recent request.</summary>
    public IReadOnlyDictionary<string, string>? LastHeaders { get; private set; }

    /// <summary>Completes when a request has arrived since the last <see cref="ResetArrival"/>.</summary>
    public Task FirstArrival => _firstArrival.Task;

    public static async Task<FakePixelManagement> StartAsync(string pathBase = "")
    {
        var fake = new FakePixelManagement(pathBase);
        await fake.StartOnAsync(0);
        return fake;
    }

    public static string Document(
        string clientId,
        string privacyLevel = "standard",
        string? salt = null,
        bool hashRequired = false,
        bool consentRequired = false,
        string defaultBehavior = "opt_in") =>
        JsonSerializer.Serialize(new Dictionary<string, object?>
        {
            ["client_id"] = clientId,
            ["privacy_level"] = privacyLevel,
            ["ip_collection"] = new Dictionary<string, object?> { ["enabled"] = true, ["hash_required"] = hashRequired, ["salt"] = salt },
            ["consent"] = new Dictionary<string, object?> { ["required"] = consentRequired, ["default_behavior"] = defaultBehavior },
            ["created_at"] = "2026-01-01T00:00:00Z",
            ["billing"] = new Dictionary<string, object?> { ["plan"] = "pro" },
        });

    public void SetDocument(string domain, string json) => _documents[domain] = json;

    /// <summary>Makes a client own a domain; as in pixel-management, the client is then also found by its id.</summary>
    public void SetClient(string domain, string clientId, string privacyLevel = "standard", string? salt = null)
    {
        var json = Document(clientId, privacyLevel, salt);
        _documents[domain] = json;
        _clientDocuments[clientId] = json;
    }

    /// <summary>Sets what <c>/api/v1/config/client/{clientId}</c> answers, whatever it says.</summary>
    public void SetClientDocument(string clientId, string json) => _clientDocuments[clientId] = json;

    public void Remove(string domain) => _documents.TryRemove(domain, out _);

    public void RemoveClient(string clientId) => _clientDocuments.TryRemove(clientId, out _);

    /// <summary>Calls received for one domain's lookup path.</summary>
    public int CallsFor(string domain) => _calls.GetValueOrDefault(_pathBase + LookupPrefix + domain);

    /// <summary>Calls received for one client's lookup path.</summary>
    public int CallsForClient(string clientId) => _calls.GetValueOrDefault(_pathBase + ClientLookupPrefix + clientId);

    public void Release() => _gate.TrySetResult();

    public void ResetArrival() => _firstArrival = NewGate();

    /// <summary>Stops the server: connections to its port are refused until <see cref="RestartAsync"/>.</summary>
    public async Task StopAsync()
    {
        if (_app is { } app)
        {
            _app = null;
            Release();
            await app.StopAsync();
            await app.DisposeAsync();
        }
    }

    /// <summary>Starts the server again on the same port.</summary>
    public Task RestartAsync()
    {
        _gate = NewGate();
        return StartOnAsync(Port);
    }

    public async ValueTask DisposeAsync() => await StopAsync();

    private static TaskCompletionSource NewGate() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    private async Task StartOnAsync(int port)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, port));
        var app = builder.Build();
        app.Run(HandleAsync);
        await app.StartAsync();
        Port = new Uri(app.Urls.First()).Port;
        _app = app;
    }

    private async Task HandleAsync(HttpContext context)
    {
        var target = context.Features.Get<IHttpRequestFeature>()!.RawTarget;
        _targets.Enqueue(target);
        _calls.AddOrUpdate(target, 1, (_, n) => n + 1);
        // Kestrel reuses the header collection once the request ends: keep a copy.
        LastHeaders = context.Request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase);
        _firstArrival.TrySetResult();

        switch (Mode)
        {
            case FakeMode.Failing:
                context.Response.StatusCode = 500;
                return;
            case FakeMode.Slow:
                try
                {
                    await _gate.Task.WaitAsync(context.RequestAborted);
                }
                catch (OperationCanceledException)
                {
                    return;
                }

                break;
        }

        // Matched on the raw target, so a path the collector should never ask for (../admin, %2e%2e) finds nothing.
        var domains = _pathBase + LookupPrefix;
        var clients = _pathBase + ClientLookupPrefix;
        string? json = null;
        if (context.Request.Method == "GET")
        {
            if (target.StartsWith(domains, StringComparison.Ordinal))
            {
                _documents.TryGetValue(target[domains.Length..], out json);
            }
            else if (target.StartsWith(clients, StringComparison.Ordinal))
            {
                _clientDocuments.TryGetValue(target[clients.Length..], out json);
            }
        }

        if (json is not null)
        {
            context.Response.StatusCode = 200;
            context.Response.ContentType = "application/json";
            await context.Response.WriteAsync(BodyOverride ?? json);
            return;
        }

        context.Response.StatusCode = 404;
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(target.StartsWith(clients, StringComparison.Ordinal)
            ? """{"detail":"Client not found"}"""
            : """{"detail":"Domain not found"}""");
    }
}
