namespace Evothesis.Collector.Authorization;

/// <summary>The outcome of authorizing a domain.</summary>
public sealed class DomainAuthorization
{
    private static readonly DomainAuthorization UnauthorizedInstance = new(DomainAuthorizationStatus.Unauthorized, null, null);

    private DomainAuthorization(DomainAuthorizationStatus status, ClientConfig? client, TimeSpan? retryAfter)
    {
        Status = status;
        Client = client;
        RetryAfter = retryAfter;
    }

    /// <summary>Gets the outcome.</summary>
    public DomainAuthorizationStatus Status { get; }

    /// <summary>Gets the client that owns the domain, when <see cref="Status"/> is <see cref="DomainAuthorizationStatus.Authorized"/>.</summary>
    public ClientConfig? Client { get; }

    /// <summary>Gets how long a sender should wait before retrying, when <see cref="Status"/> is <see cref="DomainAuthorizationStatus.Unavailable"/>.</summary>
    public TimeSpan? RetryAfter { get; }

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
}
