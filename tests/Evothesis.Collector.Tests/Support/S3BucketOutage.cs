using System.Collections.Concurrent;
using Amazon.Runtime;
using Amazon.S3;

namespace Evothesis.Collector.Tests.Support;

/// <summary>
/// Between an S3 client and s3rver: requests to the buckets that are <see cref="Down"/> fail as a network outage would
/// (connection refused), the others go through; every request is counted by bucket.
/// </summary>
public sealed class S3BucketOutage : HttpClientFactory
{
    private readonly ConcurrentDictionary<string, byte> _down = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, int> _requests = new(StringComparer.Ordinal);
    private int _refused;

    /// <summary>Gets how many requests were refused.</summary>
    public int Refused => Volatile.Read(ref _refused);

    /// <summary>An S3 client for <paramref name="server"/> that goes through this outage, without retries of its own.</summary>
    public AmazonS3Client CreateClient(S3TestServer server) =>
        new(S3TestServer.AccessKey, S3TestServer.SecretKey, new AmazonS3Config
        {
            ServiceURL = server.ServiceUrl,
            ForcePathStyle = true,
            AuthenticationRegion = "us-east-1",
            HttpClientFactory = this,
            MaxErrorRetry = 0,
        });

    /// <summary>Gets how many requests were sent to a bucket (refused ones included).</summary>
    public int Requests(string bucket) => _requests.GetValueOrDefault(bucket);

    public void Down(string bucket) => _down[bucket] = 0;

    public void Up(string bucket) => _down.TryRemove(bucket, out _);

    public override HttpClient CreateHttpClient(IClientConfig clientConfig) => new(new Handler(this) { InnerHandler = new SocketsHttpHandler() });

    public override bool DisposeHttpClientsAfterUse(IClientConfig clientConfig) => false;

    // The SDK's cache is process-wide, keyed by configuration: another test's outage would answer for this one.
    public override bool UseSDKHttpClientCaching(IClientConfig clientConfig) => false;

    private sealed class Handler(S3BucketOutage outage) : DelegatingHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            // Path-style addressing: the bucket is the first segment.
            var bucket = request.RequestUri!.AbsolutePath.TrimStart('/').Split('/')[0];
            outage._requests.AddOrUpdate(bucket, 1, static (_, n) => n + 1);
            if (outage._down.ContainsKey(bucket))
            {
                Interlocked.Increment(ref outage._refused);
                throw new HttpRequestException(HttpRequestError.ConnectionError, $"Connection refused ({bucket} is down for the test).");
            }

            return base.SendAsync(request, cancellationToken);
        }
    }
}
