namespace Evothesis.Collector.Authorization;

/// <summary>The outcome of authorizing a domain.</summary>
public sealed class DomainAuthorization
{
    private static readonly DomainAuthorization UnauthorizedInstance = new(DomainAuthorizationStatus.Unauthorized, null, null);

    private DomainAuthorization(DomainAuthorizationStatus status, ClientConfig? client, TimeSpan? retryAfter, LookupBudgetScope? throttledBy = null)
    {
        Status = status;
        Client = client;
        RetryAfter = retryAfter;
        ThrottledBy = throttledBy;
    }

    /// <summary>Gets the outcome.</summary>
    public DomainAuthorizationStatus Status { get; }

    /// <summary>Gets the client that owns the domain, when <see cref="Status"/> is <see cref="DomainAuthorizationStatus.Authorized"/>.</summary>
    public ClientConfig? Client { get; }

    /// <summary>
    /// Gets how long a sender should wait before retrying, when <see cref="Status"/> is
    /// <see cref="DomainAuthorizationStatus.Unavailable"/> or <see cref="DomainAuthorizationStatus.Throttled"/>.
    /// </summary>
    public TimeSpan? RetryAfter { get; }

    /// <summary>Gets which budget refused the lookup, when <see cref="Status"/> is <see cref="DomainAuthorizationStatus.Throttled"/>.</summary>
    public LookupBudgetScope? ThrottledBy { get; }

    /// <summary>Gets the shared result for a domain no client owns.</summary>
    public static DomainAuthorization Unauthorized => UnauthorizedInstance;

    /// <summary>Creates the result for a domain owned by <paramref name="client"/>.</summary>
    /// <param name="client">The client's configuration.</param>
    /// <returns>The result.</returns>
    public static DomainAuthorization Authorized(ClientConfig client)
    {
        ArgumentNullException.ThrowIfNull(client);
        return new DomainAuthorization(DomainAuthorizationStatus.Authorized, client, null);
    }

    /// <summary>Creates the result for a domain that cannot be decided now (the authority is unreachable).</summary>
    /// <param name="retryAfter">How long a sender should wait before retrying.</param>
    /// <returns>The result.</returns>
    public static DomainAuthorization Unavailable(TimeSpan retryAfter) =>
        new(DomainAuthorizationStatus.Unavailable, null, retryAfter);

    /// <summary>Creates the result for a domain that was not looked up because a lookup budget is spent.</summary>
    /// <param name="scope">The budget that is spent.</param>
    /// <param name="retryAfter">How long until the budget allows a lookup again.</param>
    /// <returns>The result.</returns>
    public static DomainAuthorization Throttled(LookupBudgetScope scope, TimeSpan retryAfter) =>
        new(DomainAuthorizationStatus.Throttled, null, retryAfter, scope);
}

/// <summary>The outcome of authorizing a domain.</summary>
public enum DomainAuthorizationStatus
{
    /// <summary>A client owns the domain.</summary>
    Authorized,

    /// <summary>No client owns the domain: its events are refused.</summary>
    Unauthorized,

    /// <summary>The authority could not be asked: events are refused for now and should be retried.</summary>
    Unavailable,

    /// <summary>
    /// The domain is not cached and the budget of lookups (<see cref="LookupBudgetOptions"/>) is spent: events are
    /// refused for now and should be retried after <see cref="DomainAuthorization.RetryAfter"/>.
    /// </summary>
    Throttled,
}

/// <summary>The budget of uncached lookups that refused one.</summary>
public enum LookupBudgetScope
{
    /// <summary>The budget of the sender's address: it caused too many lookups (answered 429).</summary>
    ClientAddress,

    /// <summary>The collector's budget: too many lookups from all senders together (answered 503).</summary>
    Global,
}
