using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;

namespace Evothesis.Collector.BrowserTests.Support;

/// <summary>A <c>POST /collect</c> as it reached the sample host's socket.</summary>
internal sealed record ReceivedRequest(string? ContentType, string? Origin, string? SecFetchMode, string Body, int Status);

/// <summary>
/// Records every <c>POST /collect</c> the sample host receives, before the collector handles it. The browser
/// cannot show requests a page sends while it unloads (sendBeacon); the server sees them all.
/// </summary>
internal sealed class ReceivedRequests
{
    private readonly Lock _lock = new();
    private readonly List<ReceivedRequest> _requests = [];

    public IReadOnlyList<ReceivedRequest> All
    {
        get
        {
            lock (_lock)
            {
                return _requests.ToList();
            }
        }
    }

    /// <summary>Waits until a received request satisfies <paramref name="match"/>.</summary>
    /// <param name="match">The condition.</param>
    /// <param name="what">What is awaited, for the failure message.</param>
    /// <returns>The first matching request.</returns>
    public async Task<ReceivedRequest> WaitForAsync(Func<ReceivedRequest, bool> match, string what)
    {
        var deadline = DateTime.UtcNow + Waits.Deadline;
        while (true)
        {
            var found = All.FirstOrDefault(match);
            if (found is not null)
            {
                return found;
            }

            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail($"Timed out after {Waits.Deadline.TotalSeconds} s waiting for {what}.");
            }

            await Task.Delay(Waits.PollInterval);
        }
    }

    /// <summary>The middleware, first in the sample host's pipeline.</summary>
    internal sealed class StartupFilter(ReceivedRequests requests) : IStartupFilter
    {
        public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
        {
            app.Use(async (context, nextMiddleware) =>
            {
                var request = context.Request;
                if (!HttpMethods.IsPost(request.Method) || request.Path != "/collect")
                {
                    await nextMiddleware(context);
                    return;
                }

                request.EnableBuffering();
                using var reader = new StreamReader(request.Body, leaveOpen: true);
                var body = await reader.ReadToEndAsync(context.RequestAborted);
                request.Body.Position = 0;
                await nextMiddleware(context);
                lock (requests._lock)
                {
                    requests._requests.Add(new ReceivedRequest(
                        request.ContentType,
                        request.Headers.Origin.ToString(),
                        request.Headers["Sec-Fetch-Mode"].ToString(),
                        body,
                        context.Response.StatusCode));
                }
            });
            next(app);
        };
    }
}
