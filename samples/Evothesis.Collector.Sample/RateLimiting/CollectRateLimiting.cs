using System.Buffers.Binary;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Threading.RateLimiting;
using Evothesis.Collector.Ingestion;
using Microsoft.Extensions.Options;

namespace Evothesis.Collector.Sample.RateLimiting;

/// <summary>
/// Registers the <c>/collect</c> rate limit policy (<see cref="CollectRateLimitOptions"/>): the host maps the collector
/// with <c>MapEvothesisCollector().RequireRateLimiting(PolicyName)</c> after <c>UseForwardedHeaders()</c>, so the
/// address is the visitor's, and <c>UseRateLimiter()</c>. A refused request gets 429 with <c>Retry-After</c> and an
/// RFC 7807 body; ASP.NET Core counts it in <c>aspnetcore.rate_limiting.requests</c> (meter
/// <c>Microsoft.AspNetCore.RateLimiting</c>, result <c>endpoint_limiter</c>).
/// </summary>
internal static class CollectRateLimiting
{
    /// <summary>The name of the policy.</summary>
    public const string PolicyName = "evothesis-collect";

    private static readonly byte[] ProblemBody = System.Text.Encoding.UTF8.GetBytes(
        $$"""{"type":"{{ProblemTypes.RateLimited}}","title":"Too many requests","status":429,"detail":"This address sends more requests than the collector accepts; retry after the Retry-After delay."}""");

    /// <summary>Adds the rate limiter with the <see cref="PolicyName"/> policy, bound from <c>Sample:RateLimit</c>.</summary>
    /// <param name="services">The service collection.</param>
    /// <returns>The service collection.</returns>
    public static IServiceCollection AddCollectRateLimiter(this IServiceCollection services)
    {
        services.AddOptions<CollectRateLimitOptions>()
            .BindConfiguration(CollectRateLimitOptions.SectionName)
            .ValidateDataAnnotations()
            .ValidateOnStart();

        return services.AddRateLimiter(options =>
        {
            options.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            options.OnRejected = static async (context, cancellationToken) =>
            {
                var response = context.HttpContext.Response;
                var retryAfter = context.Lease.TryGetMetadata(MetadataName.RetryAfter, out var wait) && wait > TimeSpan.FromSeconds(1)
                    ? Math.Ceiling(wait.TotalSeconds)
                    : 1;
                response.Headers.RetryAfter = retryAfter.ToString(CultureInfo.InvariantCulture);
                response.Headers.CacheControl = "no-store";
                response.ContentType = "application/problem+json";
                await response.Body.WriteAsync(ProblemBody, cancellationToken).ConfigureAwait(false);
            };
            options.AddPolicy(PolicyName, static context =>
            {
                var limit = context.RequestServices.GetRequiredService<IOptions<CollectRateLimitOptions>>().Value;

                // No address (a host without one, such as a Unix socket without forwarded headers): lumping every such
                // request into one bucket would limit the whole site, so they are not limited.
                if (!limit.Enabled || PartitionKey(context.Connection.RemoteIpAddress) is not { } key)
                {
                    return RateLimitPartition.GetNoLimiter<(ulong, bool)>(default);
                }

                return RateLimitPartition.GetTokenBucketLimiter(key, _ => new TokenBucketRateLimiterOptions
                {
                    TokenLimit = limit.Burst > 0 ? limit.Burst : limit.PermitsPerSecond,
                    TokensPerPeriod = limit.PermitsPerSecond,
                    ReplenishmentPeriod = TimeSpan.FromSeconds(1),
                    QueueLimit = 0,
                    AutoReplenishment = true,
                });
            });
        });
    }

    // An IPv4 address, or the /64 network of an IPv6 address (one subscriber usually holds a whole /64).
    internal static (ulong Prefix, bool IsIPv6)? PartitionKey(IPAddress? address)
    {
        if (address is null)
        {
            return null;
        }

        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        Span<byte> bytes = stackalloc byte[16];
        if (!address.TryWriteBytes(bytes, out var written))
        {
            return null;
        }

        return address.AddressFamily == AddressFamily.InterNetwork && written == 4
            ? (BinaryPrimitives.ReadUInt32BigEndian(bytes), false)
            : (BinaryPrimitives.ReadUInt64BigEndian(bytes), true);
    }
}
