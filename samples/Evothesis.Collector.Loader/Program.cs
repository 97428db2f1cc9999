using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

// The loader of the scaled-out topology (docs/scaling-out.md): reads the JetStream stream the collectors publish to and
// writes every event to the sinks a collector would have written it to, acknowledging each message once its sinks
// stored it. Run as many as you like with the same settings: they share one durable consumer per sink.
//
// Configured like the collector, from the environment (or appsettings.json beside it):
//   Evothesis__Nats__Url=nats://10.0.0.1:4222,nats://10.0.0.2:4222,nats://10.0.0.3:4222
//   Evothesis__Nats__Replicas=3
//   ConnectionStrings__Evothesis=Host=...           PostgreSQL
//   CLIENT_S3_BUCKET=..., BACKUP_S3_BUCKET=...      the buckets (without either and without PostgreSQL: the local folder)
var builder = Host.CreateApplicationBuilder(args);

var collector = builder.Services.AddEvothesisCollector(builder.Configuration.GetSection("Evothesis"));
if (!string.IsNullOrWhiteSpace(builder.Configuration.GetConnectionString("Evothesis")))
{
    collector.AddPostgreSqlSink();
}

if (new[] { "CLIENT_S3_BUCKET", "BACKUP_S3_BUCKET", "Evothesis:S3:ClientBucket", "Evothesis:S3:BackupBucket" }
    .Any(key => !string.IsNullOrWhiteSpace(builder.Configuration[key])))
{
    collector.AddS3Sink();
}

collector.AddNatsJetStreamLoader();

builder.Build().Run();
