using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Evothesis.Collector.BrowserTests.Support;

/// <summary>
/// The sample host, in process, on real Kestrel (a browser needs a socket) at a free port of 127.0.0.1, in
/// the Development environment: the demo site at <c>/</c>, the pixel, <c>/collect</c> and <c>/events/recent</c>.
/// Events are stored in a temporary folder deleted at the end.
/// </summary>
internal sealed class SampleHost : WebApplicationFactory<Program>
{
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(30) };

    public SampleHost()
    {
        StoragePath = Directory.CreateTempSubdirectory("evothesis-browser-tests-").FullName;
        UseKestrel(options => options.Listen(IPAddress.Loopback, 0));
    }

    /// <summary>Gets the <c>POST /collect</c> requests the host received.</summary>
    public ReceivedRequests Received { get; } = new();

    /// <summary>Gets the folder the local-folder sink writes event files to.</summary>
    public string StoragePath { get; }

    /// <summary>Gets the address the host listens at, such as <c>http://127.0.0.1:41234</c>.</summary>
    public Uri BaseAddress { get; private set; } = null!;

    /// <summary>Starts Kestrel and reads the port it was given.</summary>
    public void Start()
    {
        StartServer();
        var addresses = Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses;
        BaseAddress = new Uri(addresses.Single(a => a.StartsWith("http://127.0.0.1:", StringComparison.Ordinal)));
        _http.BaseAddress = BaseAddress;
    }

    /// <summary>Reads <c>GET /events/recent</c> (the newest 1000 events) over HTTP, as a user of the sample would.</summary>
    /// <returns>The stored events, newest first.</returns>
    public async Task<JsonArray> GetRecentEventsAsync()
    {
        using var response = await _http.GetAsync(new Uri("/events/recent?limit=1000", UriKind.Relative));
        response.EnsureSuccessStatusCode();
        return JsonNode.Parse(await response.Content.ReadAsStringAsync())!.AsArray();
    }

    /// <summary>Gets the stored events of one browser session, oldest first.</summary>
    /// <param name="sessionId">The pixel's session id.</param>
    /// <returns>The events.</returns>
    public async Task<List<JsonObject>> GetSessionEventsAsync(string sessionId)
    {
        var all = await GetRecentEventsAsync();
        var events = all.Select(e => e!.AsObject()).Where(e => (string?)e["sessionId"] == sessionId).ToList();
        events.Reverse();
        return events;
    }

    /// <summary>Polls <c>/events/recent</c> until the session's stored events satisfy <paramref name="done"/>.</summary>
    /// <param name="sessionId">The pixel's session id.</param>
    /// <param name="done">The condition.</param>
    /// <param name="what">What is awaited, for the failure message.</param>
    /// <returns>The session's events once the condition holds.</returns>
    public async Task<List<JsonObject>> WaitForSessionEventsAsync(string sessionId, Func<List<JsonObject>, bool> done, string what)
    {
        var deadline = DateTime.UtcNow + Waits.Deadline;
        while (true)
        {
            var events = await GetSessionEventsAsync(sessionId);
            if (done(events))
            {
                return events;
            }

            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail($"Timed out after {Waits.Deadline.TotalSeconds} s waiting for {what}. Stored for session {sessionId}: " +
                    string.Join(", ", events.Select(e => (string?)e["eventType"])));
            }

            await Task.Delay(Waits.PollInterval);
        }
    }

    /// <summary>Reads every event file the local-folder sink wrote (gzip NDJSON), as text.</summary>
    /// <returns>The decompressed content of each file.</returns>
    public IEnumerable<string> ReadStoredFiles()
    {
        foreach (var file in Directory.EnumerateFiles(StoragePath, "*", SearchOption.AllDirectories))
        {
            using var stream = File.OpenRead(file);
            Stream content = file.EndsWith(".gz", StringComparison.Ordinal)
                ? new System.IO.Compression.GZipStream(stream, System.IO.Compression.CompressionMode.Decompress)
                : stream;
            using var reader = new StreamReader(content);
            yield return reader.ReadToEnd();
        }
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Development");
        builder.UseSetting("Evothesis:Storage:Path", StoragePath);

        // Answered once every sink has the events, so a test reads the stores right after the answer.
        builder.UseSetting("Evothesis:Batching:AckMode", "Committed");
        builder.UseSetting("Logging:LogLevel:Default", "Warning");
        builder.ConfigureServices(services => services.AddSingleton<IStartupFilter>(new ReceivedRequests.StartupFilter(Received)));
    }

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        if (disposing)
        {
            _http.Dispose();
            try
            {
                Directory.Delete(StoragePath, recursive: true);
            }
            catch (IOException)
            {
                // A temporary folder left behind is harmless.
            }
        }
    }

    /// <summary>Parses a JSON text.</summary>
    public static JsonNode Parse(string json) => JsonNode.Parse(json, documentOptions: new JsonDocumentOptions { MaxDepth = 64 })!;
}
