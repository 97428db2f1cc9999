using System.Net;
using System.Security.Cryptography;
using System.Text;
using Evothesis.Collector.Sample.Clients;
using Evothesis.Collector.Sample.Pixel;
using Evothesis.Collector.Sample.RateLimiting;
using Microsoft.AspNetCore.HttpOverrides;
using OpenTelemetry.Metrics;

var builder = WebApplication.CreateBuilder(args);

// The seed's curl examples use http://localhost:8000; --urls or ASPNETCORE_URLS still win.
if (string.IsNullOrEmpty(builder.Configuration["urls"]))
{
    builder.WebHost.UseUrls("http://localhost:8000");
}

var collector = builder.Services.AddEvothesisCollector(builder.Configuration.GetSection("Evothesis"));

// With a PostgreSQL connection string (ConnectionStrings__Evothesis) events go to PostgreSQL, and /events/recent
// reads them from there; without one they go to local files.
if (!string.IsNullOrWhiteSpace(builder.Configuration.GetConnectionString("Evothesis")))
{
    collector.AddPostgreSqlSink();
}

// With a bucket (CLIENT_S3_BUCKET / BACKUP_S3_BUCKET, or Evothesis:S3:ClientBucket / BackupBucket) events also go to S3:
// the client bucket replaces the local files, the backup bucket takes a full copy.
if (new[] { "CLIENT_S3_BUCKET", "BACKUP_S3_BUCKET", "Evothesis:S3:ClientBucket", "Evothesis:S3:BackupBucket" }
    .Any(key => !string.IsNullOrWhiteSpace(builder.Configuration[key])))
{
    collector.AddS3Sink();
}

// With Evothesis:Nats:Url set, every accepted event is published to a NATS JetStream stream instead (several collectors,
// one replicated log, see docs/scaling-out.md); samples/Evothesis.Collector.Loader writes it to PostgreSQL and the buckets.
if (!string.IsNullOrWhiteSpace(builder.Configuration["Evothesis:Nats:Url"]))
{
    collector.AddNatsJetStreamSink();
}

builder.Services.AddHealthChecks().AddEvothesisCollector();

// The collector's meter (Evothesis.Collector) in OpenTelemetry, scraped by Prometheus at /metrics: on in Development,
// elsewhere when Sample:Metrics:Enabled is true. docs/metrics.md lists the instruments.
var metricsEnabled = builder.Configuration.GetValue<bool?>("Sample:Metrics:Enabled") ?? builder.Environment.IsDevelopment();
if (metricsEnabled)
{
    builder.Services.AddOpenTelemetry().WithMetrics(metrics => metrics
        .AddMeter(Evothesis.Collector.CollectorOptions.MeterName)
        .AddPrometheusExporter());
}
builder.Services.AddOptions<PixelOptions>()
    .BindConfiguration(PixelOptions.SectionName)
    .ValidateDataAnnotations()
    .Validate(
        o => o.FlushInterval >= TimeSpan.FromMilliseconds(50) && o.FlushInterval <= TimeSpan.FromMinutes(10),
        $"{PixelOptions.SectionName}:FlushInterval must be from 50 milliseconds to 10 minutes.")
    .ValidateOnStart();

// The visitor's IP is the connection's peer, unless the peer is a proxy named in ForwardedHeaders:KnownProxies or
// ForwardedHeaders:KnownNetworks: then X-Forwarded-For (as that proxy appended it) is used. Anyone else's
// X-Forwarded-For is ignored, so a visitor cannot choose the address stored (or hashed) for them.
builder.Services.AddOptions<ForwardedHeadersOptions>().Configure<IConfiguration>((options, configuration) =>
{
    var section = configuration.GetSection("ForwardedHeaders");
    var proxies = section.GetSection("KnownProxies").Get<string[]>() ?? [];
    var networks = section.GetSection("KnownNetworks").Get<string[]>() ?? [];

    // ASP.NET Core trusts loopback by default; only what is configured is trusted here.
    options.KnownProxies.Clear();
    options.KnownIPNetworks.Clear();
    options.ForwardedHeaders = proxies.Length > 0 || networks.Length > 0
        ? ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto
        : ForwardedHeaders.None;
    options.ForwardLimit = section.GetValue("ForwardLimit", 1);
    for (var i = 0; i < proxies.Length; i++)
    {
        options.KnownProxies.Add(IPAddress.TryParse(proxies[i], out var address)
            ? address
            : throw new InvalidOperationException($"ForwardedHeaders:KnownProxies:{i} ('{proxies[i]}') is not an IP address."));
    }

    for (var i = 0; i < networks.Length; i++)
    {
        options.KnownIPNetworks.Add(System.Net.IPNetwork.TryParse(networks[i], out var network)
            ? network
            : throw new InvalidOperationException($"ForwardedHeaders:KnownNetworks:{i} ('{networks[i]}') is not a network in CIDR notation (10.0.0.0/8)."));
    }
});

// Per client address on /collect, when Sample:RateLimit:PermitsPerSecond is set (off by default): 429 with Retry-After.
builder.Services.AddCollectRateLimiter();

var app = builder.Build();

// The demo clients file's salts are published: in Production, a clients file of your own or pixel-management.
app.ThrowIfDemoClientsInProduction();

// First, so everything after it (the collector and the rate limiter included) sees the visitor's address.
app.UseForwardedHeaders();
app.UseRateLimiter();

// /events/recent shows every client's events: only in Development, or to callers presenting the admin key
// (Sample:AdminKey, sent as X-Admin-Key). With a key configured, Development requires it too.
var adminKey = app.Configuration["Sample:AdminKey"];
if (!string.IsNullOrEmpty(adminKey))
{
    var expected = Encoding.UTF8.GetBytes(adminKey);
    app.Use(async (context, next) =>
    {
        if (context.Request.Path.StartsWithSegments("/events/recent")
            && !CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(context.Request.Headers["X-Admin-Key"].ToString()), expected))
        {
            context.Response.StatusCode = StatusCodes.Status401Unauthorized;
            return;
        }

        await next(context);
    });
}

// The demo integration site (testing/) at /, and the development pixel its pages load: Development only
// unless Sample:DemoSite:Enabled / Sample:Pixel:Enabled say otherwise.
app.UseDemoSite();

const string collectPath = "/collect";
app.MapEvothesisCollector(collectPath).RequireRateLimiting(CollectRateLimiting.PolicyName);
if (app.Environment.IsDevelopment() || !string.IsNullOrEmpty(adminKey))
{
    app.MapEvothesisRecentEvents();
}

if (app.Configuration.GetValue<bool?>($"{PixelOptions.SectionName}:Enabled") ?? app.Environment.IsDevelopment())
{
    app.MapDevelopmentPixel(collectPath);
}

app.MapHealthChecks("/health");
if (metricsEnabled)
{
    app.MapPrometheusScrapingEndpoint("/metrics");
}

app.Run();

/// <summary>The sample host's entry point, visible to integration tests.</summary>
public partial class Program;
