using Evothesis.Collector.Sinks.PostgreSql.Internal;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

namespace Evothesis.Collector.Sinks.PostgreSql;

/// <summary>
/// Reports whether PostgreSQL answers <c>SELECT 1</c> within <see cref="PostgreSqlSinkOptions.HealthCheckTimeout"/>.
/// Registered as <c>evothesis-postgresql</c> by <c>AddPostgreSqlSink()</c>.
/// </summary>
internal sealed class PostgreSqlHealthCheck(
    PostgreSqlConnectionSource connection,
    IOptions<PostgreSqlSinkOptions> options,
    TimeProvider timeProvider) : IHealthCheck
{
    public const string Name = "evothesis-postgresql";

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var timeout = options.Value.HealthCheckTimeout;
        using var timeoutSource = new CancellationTokenSource(timeout, timeProvider);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeoutSource.Token);
        try
        {
            var command = connection.DataSource.CreateCommand("SELECT 1");
            await using (command.ConfigureAwait(false))
            {
                await command.ExecuteScalarAsync(linked.Token).ConfigureAwait(false);
            }

            return HealthCheckResult.Healthy("PostgreSQL answers.");
        }
        catch (OperationCanceledException) when (timeoutSource.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            return new HealthCheckResult(context.Registration.FailureStatus, $"PostgreSQL did not answer within {timeout}.");
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // The exception type only: messages can carry host names and users that a public health endpoint should not show.
            return new HealthCheckResult(context.Registration.FailureStatus, $"PostgreSQL is unreachable ({ex.GetType().Name}).");
        }
    }
}
