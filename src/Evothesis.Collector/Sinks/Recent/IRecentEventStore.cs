using Evothesis.Collector.Events;

namespace Evothesis.Collector.Sinks.Recent;

/// <summary>The source of <c>GET /events/recent</c>: the most recently stored events.</summary>
public interface IRecentEventStore
{
    /// <summary>Gets the most recent events, newest first.</summary>
    /// <param name="limit">The most events to return.</param>
    /// <param name="clientId">Only events of this client, when set.</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <returns>The events, newest first.</returns>
    ValueTask<IReadOnlyList<CollectedEvent>> GetRecentAsync(int limit, string? clientId, CancellationToken cancellationToken);
}
