using System.Net;

namespace Evothesis.Collector.Authorization;

/// <summary>
/// Decides which client, if any, owns a domain. The collector asks it for every request before storing
/// anything; implementations cache as they see fit.
/// </summary>
public interface IDomainAuthorizer
{
    /// <summary>Authorizes a normalised domain name.</summary>
    /// <param name="domain">The domain: lower case, no port, no trailing dot, IDN as punycode.</param>
    /// <param name="cancellationToken">Cancels the lookup.</param>
    /// <returns>The client's configuration, a refusal, or the news that no decision can be made now.</returns>
    ValueTask<DomainAuthorization> AuthorizeAsync(string domain, CancellationToken cancellationToken);

    /// <summary>
    /// Authorizes a normalised domain for a request from <paramref name="clientAddress"/>, so that an authorizer can
    /// budget the work it does for one sender (the pixel-management authorizer limits uncached lookups per address).
    /// The default ignores the address.
    /// </summary>
    /// <param name="domain">The domain: lower case, no port, no trailing dot, IDN as punycode.</param>
    /// <param name="clientAddress">The sender's address (after trusted forwarded headers), or <see langword="null"/> when unknown.</param>
    /// <param name="cancellationToken">Cancels the lookup.</param>
    /// <returns>The client's configuration, a refusal, or the news that no decision can be made now.</returns>
    ValueTask<DomainAuthorization> AuthorizeAsync(string domain, IPAddress? clientAddress, CancellationToken cancellationToken) =>
        AuthorizeAsync(domain, cancellationToken);
}
