using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;

namespace Evothesis.Collector.Tests.Support;

/// <summary>
/// Load for the sample host as a real process: senders posting batches of 1 to 4 events with unique eventIds until
/// stopped, each request's outcome recorded in a <see cref="CollectLedger"/>.
/// </summary>
public static class CollectLoad
{
    /// <summary>
    /// Sends until <paramref name="stop"/> fires; sender <c>i</c> posts from <c>origins[i % origins.Count]</c>
    /// (<c>http://localhost</c> by default) and waits <c>pause</c> after each answer (none by default). Each request is
    /// <see cref="Request"/>'s, or <paramref name="request"/>'s when given (other events for the same eventIds).
    /// </summary>
    public static async Task SendAsync(
        SampleProcess host,
        CollectLedger ledger,
        string prefix,
        CancellationToken stop,
        int senders = 16,
        IReadOnlyList<string>? origins = null,
        TimeSpan pause = default,
        Func<IReadOnlyList<string>, HttpRequestMessage>? request = null)
    {
        origins ??= ["http://localhost"];
        using var client = new HttpClient { BaseAddress = host.BaseAddress, Timeout = TimeSpan.FromSeconds(15) };
        var tasks = Enumerable.Range(0, senders).Select(sender => Task.Run(async () =>
        {
            var origin = origins[sender % origins.Count];
            for (var n = 0; !stop.IsCancellationRequested; n++)
            {
                var ids = Enumerable.Range(0, (n % 4) + 1).Select(i => $"{prefix}-{sender}-{n}-{i}").ToArray();
                ledger.Send(ids);
                try
                {
                    // Not cancelled by the test: a request in flight ends with its answer or with the process.
                    using var response = await client.SendAsync(request?.Invoke(ids) ?? Request(ids, ledger.Padding, origin), CancellationToken.None);
                    var body = await response.Content.ReadAsStringAsync(CancellationToken.None);
                    ledger.Answered(ids, response, body);
                }
                catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or IOException)
                {
                    ledger.Fail();
                    await Task.Delay(20, CancellationToken.None);
                }

                if (pause > TimeSpan.Zero)
                {
                    await Task.Delay(pause, CancellationToken.None);
                }
            }
        }));
        await Task.WhenAll(tasks);
    }

    /// <summary>A <c>POST /collect</c> of one batch holding one pageview per eventId, from <paramref name="origin"/>.</summary>
    public static HttpRequestMessage Request(IReadOnlyList<string> eventIds, string? padding = null, string origin = "http://localhost")
    {
        var events = string.Join(",", eventIds.Select(id =>
            padding is null
                ? $$"""{"eventType":"pageview","eventId":"{{id}}"}"""
                : $$$"""{"eventType":"pageview","eventId":"{{{id}}}","event_data":{"padding":"{{{padding}}}"}}"""));
        var request = new HttpRequestMessage(HttpMethod.Post, "collect")
        {
            Content = new StringContent($$"""{"eventType":"batch","events":[{{events}}]}""", Encoding.UTF8, "application/json"),
        };
        request.Headers.Add("Origin", origin);
        return request;
    }
}

/// <summary>What the senders sent and how each request was answered; thread-safe.</summary>
public sealed class CollectLedger
{
    private readonly ConcurrentDictionary<string, byte> _sent = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, byte> _acknowledged = new(StringComparer.Ordinal);
    private int _requests;
    private int _failed;
    private int _partial;
    private int _refusalsWithoutRetryAfter;
    private int _refused;
    private volatile bool _acceptedAfterRefusal;

    /// <summary>Gets or sets a string added to every event, to make requests larger.</summary>
    public string? Padding { get; init; }

    /// <summary>Gets a snapshot of the eventIds sent.</summary>
    public HashSet<string> Sent => _sent.Keys.ToHashSet(StringComparer.Ordinal);

    /// <summary>Gets a snapshot of the eventIds whose request got a 2xx.</summary>
    public HashSet<string> Acknowledged => _acknowledged.Keys.ToHashSet(StringComparer.Ordinal);

    public ConcurrentDictionary<int, int> Statuses { get; } = new();

    public ConcurrentDictionary<string, int> RefusalTypes { get; } = new(StringComparer.Ordinal);

    public int Requests => Volatile.Read(ref _requests);

    /// <summary>Gets the requests that ended without an answer (connection refused or reset, timeout).</summary>
    public int Failed => Volatile.Read(ref _failed);

    public int PartialAcknowledgements => Volatile.Read(ref _partial);

    public int RefusalsWithoutRetryAfter => Volatile.Read(ref _refusalsWithoutRetryAfter);

    public bool AcceptedAfterRefusal => _acceptedAfterRefusal;

    public void Send(IEnumerable<string> ids)
    {
        Interlocked.Increment(ref _requests);
        foreach (var id in ids)
        {
            _sent.TryAdd(id, 0);
        }
    }

    public void Answered(string[] ids, HttpResponseMessage response, string body)
    {
        var status = (int)response.StatusCode;
        Statuses.AddOrUpdate(status, 1, (_, n) => n + 1);
        if (response.IsSuccessStatusCode)
        {
            foreach (var id in ids)
            {
                _acknowledged.TryAdd(id, 0);
            }

            if (JsonDocument.Parse(body).RootElement.GetProperty("accepted").GetInt32() != ids.Length)
            {
                Interlocked.Increment(ref _partial);
            }

            if (Volatile.Read(ref _refused) > 0)
            {
                _acceptedAfterRefusal = true;
            }

            return;
        }

        Interlocked.Increment(ref _refused);
        if (response.Headers.RetryAfter is null)
        {
            Interlocked.Increment(ref _refusalsWithoutRetryAfter);
        }

        var type = body.Length > 0 && body[0] == '{' && JsonDocument.Parse(body).RootElement.TryGetProperty("type", out var t)
            ? t.GetString() ?? "(null)"
            : "(none)";
        RefusalTypes.AddOrUpdate(type, 1, (_, n) => n + 1);
    }

    public void Fail() => Interlocked.Increment(ref _failed);

    /// <summary>Asserts that <paramref name="stored"/> (one eventId per stored line) holds every acknowledged event once, and nothing that was not sent.</summary>
    public void ShouldHoldEveryAcknowledgedEventOnce(IReadOnlyList<string> stored, string where = "the store")
    {
        var counts = stored.CountBy(id => id).ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal);
        var sent = Sent;
        counts.Where(p => p.Value > 1).Select(p => p.Key).Should().BeEmpty($"no event is stored twice in {where}");
        Acknowledged.Where(id => !counts.ContainsKey(id)).Should().BeEmpty($"every acknowledged event is stored in {where}");
        counts.Keys.Where(id => !sent.Contains(id)).Should().BeEmpty($"only events that were sent are stored in {where}");
        PartialAcknowledgements.Should().Be(0, "every event of the test's requests is valid");
    }

    /// <summary>Writes what was sent, acknowledged and stored to the test's output.</summary>
    public void Report(IReadOnlyList<string> stored, string where = "stored")
    {
        var distinct = stored.ToHashSet(StringComparer.Ordinal);
        var acknowledged = Acknowledged;
        TestContext.Out.WriteLine(
            $"sent: {Sent.Count}, acknowledged: {acknowledged.Count}, {where}: {stored.Count} ({distinct.Count} distinct), " +
            $"duplicates: {stored.Count - distinct.Count}, acknowledged and missing: {acknowledged.Count(id => !distinct.Contains(id))}, " +
            $"stored without acknowledgement: {distinct.Count(id => !acknowledged.Contains(id))}");
        TestContext.Out.WriteLine(
            $"requests: {Requests}, statuses: {string.Join(", ", Statuses.OrderBy(s => s.Key).Select(s => $"{s.Key}={s.Value}"))}, " +
            $"failed: {Failed}");
    }
}
