using Evothesis.Collector.Batching;
using Microsoft.Extensions.DependencyInjection;

namespace Evothesis.Collector.Tests.Support;

/// <summary>
/// Waits for every sink's spool consumer. <c>Committed</c> mode answers once the first sink (and the audit trail) has a
/// request's events; a test that reads another sink (the backup bucket) right after the answer waits here first.
/// </summary>
public static class Deliveries
{
    public static Task AllSinksAsync(IServiceProvider services)
    {
        var batcher = services.GetRequiredService<EventBatcher>();
        return Eventually.True(() => batcher.Consumers.All(c => c.Committed >= batcher.Spool.DurablePosition));
    }
}
