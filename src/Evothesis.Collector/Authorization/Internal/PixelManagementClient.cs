using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Microsoft.Extensions.Options;
using Polly.CircuitBreaker;
using Polly.RateLimiting;
using Polly.Timeout;

namespace Evothesis.Collector.Authorization.Internal;

/// <summary>What is looked up at pixel-management.</summary>
internal enum LookupKind
{
    /// <summary>Which client owns a domain (<c>/api/v1/config/domain/{domain}</c>), for every collected request.</summary>
    Domain,

    /// <summary>A client by its id (<c>/api/v1/config/client/{client_id}</c>), for the client directory.</summary>
    Client,
}

/// <summary>What pixel-management said about a domain or a client.</summary>
internal enum LookupOutcome
{
    /// <summary>200 with a usable configuration.</summary>
    Authorized,

    /// <summary>404: no client owns the domain, or no such client exists.</summary>
    NotFound,

    /// <summary>
    /// 200 with a configuration that would make attribution or privacy rules a guess, or, for a client lookup,
    /// the configuration of another client.
    /// </summary>
    Invalid,

    /// <summary>No answer that can be trusted: other status, timeout, network error, open circuit, unreadable body.</summary>
    Failed,
}

/// <summary>The answer to one lookup. <see cref="Detail"/> never contains the salt.</summary>
internal readonly record struct PixelManagementAnswer(LookupOutcome Outcome, ClientConfig? Client, string? Detail, string? ErrorType, int StatusCode)
{
    public static PixelManagementAnswer Failure(string errorType, string detail, int statusCode = 0) =>
        new(LookupOutcome.Failed, null, detail, errorType, statusCode);
}

/// <summary>
/// The typed <see cref="HttpClient"/> for <c>GET {base}/api/v1/config/domain/{domain}</c> and
/// <c>GET {base}/api/v1/config/client/{client_id}</c> (both answer a client configuration). Retries, timeouts
/// and the circuit breaker live in the client's standard resilience handler; this class only classifies answers.
/// </summary>
internal sealed class PixelManagementClient
{
    /// <summary>Configuration documents are a few hundred bytes; anything far larger is not one.</summary>
    public const int MaxResponseBytes = 64 * 1024;

    private static readonly MediaTypeWithQualityHeaderValue Json = new("application/json");

    private readonly HttpClient _http;
    private readonly Uri? _baseUri;

    public PixelManagementClient(HttpClient http, IOptions<CollectorOptions> options)
    {
        _http = http;
        PixelManagementUri.TryCreate(options.Value.Authorization.PixelManagementUrl, out _baseUri, out _);
    }

    /// <summary>Asks pixel-management which client owns a normalised domain.</summary>
    public Task<PixelManagementAnswer> LookupDomainAsync(string domain, CancellationToken cancellationToken) =>
        _baseUri is null
            ? Task.FromResult(NotConfigured)
            : SendAsync(PixelManagementUri.ForDomain(_baseUri, domain), expectedClientId: null, cancellationToken);

    /// <summary>
    /// Asks pixel-management for a client's configuration by its id (which must pass <see cref="ClientIds.IsValid"/>).
    /// A configuration of any other client is <see cref="LookupOutcome.Invalid"/>: never served under the id asked for.
    /// </summary>
    public Task<PixelManagementAnswer> LookupClientAsync(string clientId, CancellationToken cancellationToken) =>
        _baseUri is null
            ? Task.FromResult(NotConfigured)
            : SendAsync(PixelManagementUri.ForClient(_baseUri, clientId), clientId, cancellationToken);

    private static PixelManagementAnswer NotConfigured => PixelManagementAnswer.Failure("not_configured", "no pixel-management URL is configured");

    private async Task<PixelManagementAnswer> SendAsync(Uri uri, string? expectedClientId, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, uri);
        request.Headers.Accept.Add(Json);

        HttpResponseMessage response;
        try
        {
            response = await _http.SendAsync(request, HttpCompletionOption.ResponseContentRead, cancellationToken).ConfigureAwait(false);
        }
        catch (BrokenCircuitException)
        {
            // Also IsolatedCircuitException, a breaker held open on purpose.
            return PixelManagementAnswer.Failure("circuit_open", "the circuit breaker is open after repeated failures");
        }
        catch (TimeoutRejectedException)
        {
            return PixelManagementAnswer.Failure("timeout", "no answer within the time budget");
        }
        catch (RateLimiterRejectedException)
        {
            return PixelManagementAnswer.Failure("rate_limited", "too many lookups in flight");
        }
        catch (HttpRequestException ex)
        {
            return PixelManagementAnswer.Failure("network", ex.Message);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            // HttpClient.Timeout, the backstop behind the resilience handler's total timeout.
            return PixelManagementAnswer.Failure("timeout", "no answer within the time budget");
        }

        using (response)
        {
            var status = (int)response.StatusCode;
            if (response.StatusCode == HttpStatusCode.NotFound)
            {
                return new PixelManagementAnswer(LookupOutcome.NotFound, null, null, null, status);
            }

            if (response.StatusCode != HttpStatusCode.OK)
            {
                return PixelManagementAnswer.Failure(status.ToString(System.Globalization.CultureInfo.InvariantCulture), $"HTTP {status}", status);
            }

            ClientConfigDocument? document;
            try
            {
                var stream = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
                await using (stream.ConfigureAwait(false))
                {
                    document = await JsonSerializer.DeserializeAsync(stream, AuthorizationJsonContext.Default.ClientConfigDocument, cancellationToken).ConfigureAwait(false);
                }
            }
            catch (JsonException ex)
            {
                return PixelManagementAnswer.Failure("invalid_response", $"the body is not a JSON client configuration (line {ex.LineNumber + 1})", status);
            }

            if (document is null)
            {
                return PixelManagementAnswer.Failure("invalid_response", "the body is JSON null", status);
            }

            if (!document.TryToClientConfig(out var config, out var error))
            {
                return new PixelManagementAnswer(LookupOutcome.Invalid, null, error, null, status);
            }

            // Case matters: ids are compared as the cache and the sinks compare them, ordinally.
            if (expectedClientId is not null && !string.Equals(config.ClientId, expectedClientId, StringComparison.Ordinal))
            {
                return new PixelManagementAnswer(
                    LookupOutcome.Invalid, null, $"the configuration is that of client '{config.ClientId}', not of the client asked for", null, status);
            }

            return new PixelManagementAnswer(LookupOutcome.Authorized, config, null, null, status);
        }
    }
}
