using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Microsoft.Extensions.Options;
using Polly.CircuitBreaker;
using Polly.RateLimiting;
using Polly.Timeout;

namespace Evothesis.Collector.Authorization.Internal;

/// <summary>What pixel-management said about a domain.</summary>
internal enum LookupOutcome
{
    /// <summary>200 with a usable configuration.</summary>
    Authorized,

    /// <summary>404: no client owns the domain.</summary>
    NotFound,

    /// <summary>200 with a configuration that would make attribution or privacy rules a guess.</summary>
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
/// The typed <see cref="HttpClient"/> for <c>GET {base}/api/v1/config/domain/{domain}</c>. Retries, timeouts
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
    public async Task<PixelManagementAnswer> LookupAsync(string domain, CancellationToken cancellationToken)
    {
        if (_baseUri is null)
        {
            return PixelManagementAnswer.Failure("not_configured", "no pixel-management URL is configured");
        }

        using var request = new HttpRequestMessage(HttpMethod.Get, PixelManagementUri.ForDomain(_baseUri, domain));
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

            return document.TryToClientConfig(out var config, out var error)
                ? new PixelManagementAnswer(LookupOutcome.Authorized, config, null, null, status)
                : new PixelManagementAnswer(LookupOutcome.Invalid, null, error, null, status);
        }
    }
}
