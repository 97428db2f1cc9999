using System.Text.Json.Nodes;
using Microsoft.Playwright;

namespace Evothesis.Collector.BrowserTests.Support;

/// <summary>One <c>POST /collect</c> the browser made, as the browser saw it.</summary>
internal sealed class CollectCall
{
    public required IRequest Request { get; init; }

    /// <summary>Gets the body as sent.</summary>
    public required string Body { get; init; }

    /// <summary>Gets Playwright's resource type: <c>fetch</c> for the pixel's batches, <c>ping</c> for sendBeacon.</summary>
    public required string ResourceType { get; init; }

    public required DateTime SentAt { get; init; }

    /// <summary>Gets the response status, once a response arrived.</summary>
    public int? Status { get; set; }

    /// <summary>Gets the response headers (lower-case names), once a response arrived.</summary>
    public IReadOnlyDictionary<string, string>? ResponseHeaders { get; set; }

    /// <summary>Gets why the browser reports the request failed (CORS refusal, network error), if it did.</summary>
    public string? Failure { get; set; }

    /// <summary>Gets the events of the batch envelope in the body.</summary>
    public IReadOnlyList<JsonObject> Events =>
        SampleHost.Parse(Body)["events"]!.AsArray().Select(e => e!.AsObject()).ToList();

    /// <summary>Gets the body's envelope.</summary>
    public JsonObject Envelope => SampleHost.Parse(Body).AsObject();
}

/// <summary>Records every <c>POST /collect</c> of a browser context, with its response or failure.</summary>
internal sealed class CollectTraffic
{
    private readonly Lock _lock = new();
    private readonly List<CollectCall> _calls = [];

    private CollectTraffic()
    {
    }

    /// <summary>Gets a snapshot of the calls so far.</summary>
    public IReadOnlyList<CollectCall> Calls
    {
        get
        {
            lock (_lock)
            {
                return _calls.ToList();
            }
        }
    }

    /// <summary>Gets every event of every call so far, in the order sent.</summary>
    public IReadOnlyList<JsonObject> SentEvents => Calls.SelectMany(c => c.Events).ToList();

    /// <summary>Starts recording a context's traffic (context-wide, so beacons sent while a page unloads count too).</summary>
    /// <param name="context">The browser context.</param>
    /// <returns>The recorder.</returns>
    public static CollectTraffic Attach(IBrowserContext context)
    {
        var traffic = new CollectTraffic();
        context.Request += (_, request) =>
        {
            if (IsCollect(request))
            {
                var call = new CollectCall
                {
                    Request = request,
                    Body = request.PostData ?? string.Empty,
                    ResourceType = request.ResourceType,
                    SentAt = DateTime.UtcNow,
                };
                lock (traffic._lock)
                {
                    traffic._calls.Add(call);
                }
            }
        };
        context.Response += (_, response) => traffic.Update(response.Request, call =>
        {
            call.Status = response.Status;
            call.ResponseHeaders = response.Headers;
        });
        context.RequestFailed += (_, request) => traffic.Update(request, call => call.Failure = request.Failure ?? "failed");
        return traffic;
    }

    /// <summary>Waits until the recorded calls satisfy <paramref name="done"/>.</summary>
    /// <param name="done">The condition.</param>
    /// <param name="what">What is awaited, for the failure message.</param>
    /// <returns>The calls once the condition holds.</returns>
    public async Task<IReadOnlyList<CollectCall>> WaitForAsync(Func<IReadOnlyList<CollectCall>, bool> done, string what)
    {
        var deadline = DateTime.UtcNow + Waits.Deadline;
        while (true)
        {
            var calls = Calls;
            if (done(calls))
            {
                return calls;
            }

            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail($"Timed out after {Waits.Deadline.TotalSeconds} s waiting for {what}; saw {calls.Count} /collect request(s).");
            }

            // Playwright raises its events on its own thread; this only checks what it recorded.
            await Task.Delay(TimeSpan.FromMilliseconds(25));
        }
    }

    private static bool IsCollect(IRequest request) =>
        request.Method == "POST" && new Uri(request.Url).AbsolutePath == "/collect";

    private void Update(IRequest request, Action<CollectCall> update)
    {
        lock (_lock)
        {
            var call = _calls.FirstOrDefault(c => ReferenceEquals(c.Request, request));
            if (call is not null)
            {
                update(call);
            }
        }
    }
}
