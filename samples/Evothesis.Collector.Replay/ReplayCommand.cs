using System.Globalization;
using Evothesis.Collector.Batching;
using Evothesis.Collector.Sinks;
using Evothesis.Collector.Sinks.ObjectStorage;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Evothesis.Collector.Replay;

/// <summary>
/// <c>evothesis-replay</c>: reads the objects the collector wrote (by default from the backup bucket) and writes
/// their events into a sink (PostgreSQL, a bucket or a folder), idempotently. Configuration is the collector's:
/// <c>Evothesis:S3:*</c> or <c>BACKUP_S3_BUCKET</c>, <c>CLIENT_S3_BUCKET</c>, <c>AWS_ENDPOINT_URL_S3</c>,
/// <c>AWS_REGION</c> and the AWS credentials, <c>ConnectionStrings:Evothesis</c> and <c>Evothesis:PostgreSql:*</c>,
/// from environment variables or this tool's appsettings.json.
/// </summary>
public static class ReplayCommand
{
    internal const string ParkedSource = "parked";

    private const string PostgresTarget = "postgres";

    public const string Usage = """
        Usage: evothesis-replay --target <where> [--source <where>] [options]
               evothesis-replay --source parked [--target <where>] [--dry-run]

        Reads the objects the collector wrote and writes their events into a sink. Idempotent: every batch keeps
        its id and every event its id, so replaying a range again stores nothing twice, and a replay that
        stopped is resumed by running it again.

          --source <where>   where the objects are (default: backup)
                               backup                the backup bucket (BACKUP_S3_BUCKET), under Evothesis:S3:BackupPrefix
                               client                the client bucket (CLIENT_S3_BUCKET), under Evothesis:S3:Prefix
                               s3://bucket[/prefix]  any bucket, through the collector's S3 settings
                               <folder>              a local folder in the collector's layout (such as the sample's data/)
                               parked                records sinks refused for good, parked beside the spool
                                                     ({Spool:Path}/parked/{sink}/): each file goes back to the sink it
                                                     was parked for, built from this configuration as the collector
                                                     builds it (PostgreSQL when ConnectionStrings:Evothesis is set), under
                                                     the batch id it had; a file is deleted once the sink took all of it
          --target <where>   where the events go (with --source parked: every parked file, whichever its sink)
                               postgres              the PostgreSQL sink (ConnectionStrings:Evothesis, Evothesis:PostgreSql)
                               s3://bucket[/prefix]  objects again, under the same keys
                               <folder>              objects again, in a local folder
          --client <id>      only this client; repeat for several (default: every client)
          --from <utc time>  batches written at or after this time: 2026-11-26 or 2026-11-26T10:00Z
          --to <utc time>    batches written before this time
          --skip-invalid     skip objects that are not gzip NDJSON of events (listed at the end) instead of stopping
          --dry-run          read and count only; write nothing
          --help             this text

        Exit codes: 0 done, 1 failed (the message says why; run again to resume), 2 bad arguments.
        """;

    /// <summary>Runs the command.</summary>
    /// <param name="args">The command line.</param>
    /// <param name="output">Where the summary and errors go.</param>
    /// <param name="settings">Configuration that overrides the environment and appsettings.json (tests).</param>
    /// <param name="configureServices">Adds services, such as an <c>IAmazonS3</c> or other sinks (tests).</param>
    /// <param name="cancellationToken">Stops the replay after the current object.</param>
    /// <returns>The exit code.</returns>
    public static async Task<int> RunAsync(
        string[] args,
        TextWriter output,
        IDictionary<string, string?>? settings = null,
        Action<IServiceCollection>? configureServices = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(output);
        if (!ReplayArguments.TryParse(args, out var arguments, out var error))
        {
            await output.WriteLineAsync(error is null ? Usage : $"error: {error}{Environment.NewLine}{Environment.NewLine}{Usage}");
            return error is null ? 0 : 2;
        }

        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings
        {
            Args = [],
            ContentRootPath = AppContext.BaseDirectory,
        });
        if (settings is not null)
        {
            builder.Configuration.AddInMemoryCollection(settings);
        }

        // Every bucket the configuration names, and any other through s3://bucket, with the collector's S3 settings.
        var collector = builder.Services.AddEvothesisCollector(builder.Configuration.GetSection(CollectorOptions.SectionName)).AddS3ObjectStorage();
        var parkedForPostgres = arguments.IsParked && arguments.Target.Length == 0
            && !string.IsNullOrWhiteSpace(builder.Configuration.GetConnectionString("Evothesis"));
        if (arguments.Target == PostgresTarget || parkedForPostgres)
        {
            // Tables and the partitions of the replayed days are created as the sink needs them.
            collector.AddPostgreSqlSink();
        }

        configureServices?.Invoke(builder.Services);
        using var host = builder.Build();

        try
        {
            if (arguments.IsParked)
            {
                return await ReplayParkedAsync(arguments, host.Services, output, cancellationToken);
            }

            var stores = host.Services.GetRequiredService<CollectorObjectStores>();
            var (source, prefix) = ResolveSource(arguments.Source, stores);
            var target = ResolveTarget(arguments.Target, stores, host.Services);

            var replay = new ObjectReplayOptions
            {
                Prefix = prefix,
                From = arguments.From,
                To = arguments.To,
                SkipInvalidObjects = arguments.SkipInvalid,
                DryRun = arguments.DryRun,
            };
            foreach (var client in arguments.Clients)
            {
                replay.ClientIds.Add(client);
            }

            var logger = host.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Evothesis.Collector.Replay");
            var result = await ObjectStorageReplay.ReplayAsync(source, target, replay, logger, cancellationToken);

            await output.WriteLineAsync(string.Create(
                CultureInfo.InvariantCulture,
                $"{(arguments.DryRun ? "Would replay" : "Replayed")} {result.Objects} objects ({result.Events} events) from {source.Name}{(string.IsNullOrEmpty(prefix) ? string.Empty : "/" + prefix.Trim('/'))} into {target.Name}; skipped {result.ForeignObjects} objects outside the layout and {result.InvalidObjects.Count} invalid objects."));
            foreach (var invalid in result.InvalidObjects)
            {
                await output.WriteLineAsync("invalid: " + invalid);
            }

            return 0;
        }
        catch (Exception ex) when (ex is ObjectStoreException or InvalidDataException or OptionsValidationException or ReplayConfigurationException
            or InvalidOperationException or NpgsqlException)
        {
            await output.WriteLineAsync("error: " + ex.Message);
            return 1;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            await output.WriteLineAsync("Stopped. Run the same command again to resume: nothing is stored twice.");
            return 1;
        }
    }

    private static async Task<int> ReplayParkedAsync(ReplayArguments arguments, IServiceProvider services, TextWriter output, CancellationToken cancellationToken)
    {
        var target = arguments.Target.Length == 0
            ? null
            : ResolveTarget(arguments.Target, services.GetRequiredService<CollectorObjectStores>(), services);
        var logger = services.GetRequiredService<ILoggerFactory>().CreateLogger("Evothesis.Collector.Replay");
        var result = await ParkedEventReplay.ReplayAsync(services, target, arguments.DryRun, logger, cancellationToken);
        await output.WriteLineAsync(string.Create(
            CultureInfo.InvariantCulture,
            $"{(arguments.DryRun ? "Would replay" : "Replayed")} {result.Files} parked files ({result.Records} requests, {result.Events} events) from {result.Folder}{(target is null ? string.Empty : " into " + target.Name)}; {result.Failures.Count} not replayed (kept)."));
        foreach (var failure in result.Failures)
        {
            await output.WriteLineAsync("not replayed: " + failure);
        }

        return result.Failures.Count == 0 ? 0 : 1;
    }

    private static (IObjectStore Store, string? Prefix) ResolveSource(string source, CollectorObjectStores stores)
    {
        switch (source)
        {
            case "backup":
                return (stores.BackupBucket ?? throw new ReplayConfigurationException(
                    "--source backup needs the backup bucket: set BACKUP_S3_BUCKET (or Evothesis:S3:BackupBucket), or name the source."), stores.BackupPrefix);
            case "client":
                return (stores.ClientBucket ?? throw new ReplayConfigurationException(
                    "--source client needs the client bucket: set CLIENT_S3_BUCKET (or Evothesis:S3:ClientBucket), or name the source."), stores.ClientPrefix);
            default:
                if (TryParseS3(source, out var bucket, out var prefix))
                {
                    return (stores.GetBucket(bucket), prefix);
                }

                var folder = Path.GetFullPath(source);
                if (!Directory.Exists(folder))
                {
                    throw new ReplayConfigurationException($"--source {source}: the folder {folder} does not exist.");
                }

                return (new LocalFolderObjectStore(folder), null);
        }
    }

    private static IEventSink ResolveTarget(string target, CollectorObjectStores stores, IServiceProvider services)
    {
        if (target == PostgresTarget)
        {
            // The only event sink this tool registers; constructing it opens no connection yet.
            return services.GetServices<IEventSink>().Single();
        }

        if (TryParseS3(target, out var bucket, out var prefix))
        {
            return new ObjectStorageEventSink(stores.GetBucket(bucket), prefix);
        }

        return new ObjectStorageEventSink(new LocalFolderObjectStore(Path.GetFullPath(target)));
    }

    private static bool TryParseS3(string value, out string bucket, out string? prefix)
    {
        bucket = string.Empty;
        prefix = null;
        if (!value.StartsWith("s3://", StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        var rest = value["s3://".Length..];
        var slash = rest.IndexOf('/', StringComparison.Ordinal);
        bucket = slash < 0 ? rest : rest[..slash];
        prefix = slash < 0 ? null : rest[(slash + 1)..].Trim('/');
        if (bucket.Length == 0)
        {
            throw new ReplayConfigurationException($"'{value}' names no bucket: use s3://bucket or s3://bucket/prefix.");
        }

        return true;
    }
}

/// <summary>The command line does not say what to replay, or the configuration lacks what it names.</summary>
internal sealed class ReplayConfigurationException(string message) : Exception(message);
