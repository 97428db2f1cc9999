using System.Collections.Concurrent;
using System.Net;
using System.Text;

namespace Evothesis.Collector.Tests.Support;

/// <summary>
/// Senders posting <c>/collect</c> batches of 1 to 4 events to a host (as <c>http://localhost</c>, the sample's
/// <c>client_test</c>) until stopped, recording every event sent and how its request was answered. Every event carries
/// a unique marker in <c>event_data.n</c>; every other event also has it as its <c>eventId</c>, so that both ways the
/// PostgreSQL sink stores an event once are exercised: the per-day unique <c>eventId</c>, and the row id for events
/// without one. Thread-safe.
/// </summary>
public sealed class CollectLoad
{
    private readonly ConcurrentDictionary<string, byte> _sent = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, byte> _acknowledged = new(StringComparer.Ordinal);
    private int _requests;
    private int _failed;

    /// <summary>Gets a snapshot of the markers sent.</summary>
    public HashSet<string> Sent => _sent.Keys.ToHashSet(StringComparer.Ordinal);

    /// <summary>Gets a snapshot of the markers whose request was answered with 202.</summary>
    public HashSet<string> Acknowledged => _acknowledged.Keys.ToHashSet(StringComparer.Ordinal);

    /// <summary>Gets the number of answers by status code.</summary>
    public ConcurrentDictionary<int, int> Statuses { get; } = new();

    public int Requests => Volatile.Read(ref _requests);

    /// <summary>Gets the requests that ended without an answer (connection refused or reset, timeout).</summary>
    public int Failed => Volatile.Read(ref _failed);

    /// <summary>Gets the answers other than 202.</summary>
    public int NotAccepted => Statuses.Where(s => s.Key != (int)HttpStatusCode.Accepted).Sum(s => s.Value);

    /// <summary>A request's body: a batch of events with these markers, and <paramref name="extraEventData"/> in each.</summary>
    /// <param name="markers">One per event.</param>
    /// <param name="extraEventData">JSON members added to every event's <c>event_data</c>, such as <c>"v":1e-20000</c>.</param>
    public static HttpRequestMessage Request(IReadOnlyList<string> markers, string? extraEventData = null)
    {
        var extra = extraEventData is null ? "" : "," + extraEventData;
        var events = string.Join(",", markers.Select((marker, i) => i % 2 == 0
            ? $$$"""{"eventType":"click","eventId":"{{{marker}}}","event_data":{"n":"{{{marker}}}"{{{extra}}}}}"""
            : $$$"""{"eventType":"click","event_data":{"n":"{{{marker}}}"{{{extra}}}}}"""));
        var request = new HttpRequestMessage(HttpMethod.Post, "collect")
        {
            Content = new StringContent($$"""{"eventType":"batch","sessionId":"load","events":[{{events}}]}""", Encoding.UTF8, "application/json"),
        };
        request.Headers.Add("Origin", "http://localhost");
        return request;
    }

    /// <summary>Sends until <paramref name="stop"/> fires; a request in flight then ends with its answer.</summary>
    /// <param name="baseAddress">The host.</param>
    /// <param name="prefix">Makes the markers of this run unique.</param>
    /// <param name="senders">How many requests are in flight at once.</param>
    /// <param name="stop">Stops sending.</param>
    public async Task RunAsync(Uri baseAddress, string prefix, int senders, CancellationToken stop)
    {
        using var client = new HttpClient { BaseAddress = baseAddress, Timeout = TimeSpan.FromSeconds(15) };
        await Task.WhenAll(Enumerable.Range(0, senders).Select(sender => Task.Run(async () =>
        {
            for (var n = 0; !stop.IsCancellationRequested; n++)
            {
                var markers = Enumerable.Range(0, (n % 4) + 1).Select(i => $"{prefix}-{sender}-{n}-{i}").ToArray();
                await SendAsync(client, markers, null);
            }
        })));
    }

    /// <summary>Sends one request and records its outcome.</summary>
    public async Task<HttpStatusCode?> SendAsync(HttpClient client, IReadOnlyList<string> markers, string? extraEventData)
    {
        foreach (var marker in markers)
        {
            _sent.TryAdd(marker, 0);
        }

        Interlocked.Increment(ref _requests);
        try
        {
            // Not cancelled by the test: a request in flight ends with its answer or with the process.
            using var response = await client.SendAsync(Request(markers, extraEventData), CancellationToken.None);
            Statuses.AddOrUpdate((int)response.StatusCode, 1, (_, count) => count + 1);
            if (response.StatusCode == HttpStatusCode.Accepted)
            {
                foreach (var marker in markers)
                {
                    _acknowledged.TryAdd(marker, 0);
                }
            }

            return response.StatusCode;
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or IOException)
        {
            Interlocked.Increment(ref _failed);
            await Task.Delay(20, CancellationToken.None);
            return null;
        }
    }

    /// <summary>One line for the test's output.</summary>
    public string Summary() =>
        $"requests: {Requests}, statuses: {string.Join(", ", Statuses.OrderBy(s => s.Key).Select(s => $"{s.Key}={s.Value}"))}, " +
        $"no answer: {Failed}, events sent: {_sent.Count}, acknowledged: {_acknowledged.Count}";
}
