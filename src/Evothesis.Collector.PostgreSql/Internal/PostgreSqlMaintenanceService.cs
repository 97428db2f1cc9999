using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Evothesis.Collector.Sinks.PostgreSql.Internal;

/// <summary>
/// Creates the schema when the host starts and keeps daily partitions created ahead: every hour, or every
/// minute while the database cannot be reached. A database that is down at start does not stop the host: the
/// sink creates what it needs before its first write.
/// </summary>
internal sealed class PostgreSqlMaintenanceService(
    PostgreSqlSchemaManager schema,
    TimeProvider timeProvider,
    ILogger<PostgreSqlMaintenanceService> logger) : BackgroundService
{
    public static readonly TimeSpan Interval = TimeSpan.FromHours(1);
    public static readonly TimeSpan RetryInterval = TimeSpan.FromMinutes(1);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            TimeSpan delay;
            try
            {
                await schema.MaintainAsync(stoppingToken).ConfigureAwait(false);
                delay = Interval;
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                delay = RetryInterval;
                PostgreSqlLog.MaintenanceFailed(logger, ex, delay);
            }

            try
            {
                await Task.Delay(delay, timeProvider, stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }
}
