using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Evothesis.Collector.Sinks.PostgreSql.Internal;

/// <summary>
/// Creates the tables (once per process, when <see cref="PostgreSqlSinkOptions.CreateSchema"/> is on) and the daily
/// partitions (ahead of time, and on demand for a day a batch needs).
/// </summary>
internal sealed class PostgreSqlSchemaManager : IDisposable
{
    private readonly PostgreSqlConnectionSource _connection;
    private readonly PostgreSqlSinkOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    // How long DDL waits for a lock on the events table (see RunLockedAsync).
    private const string DdlLockTimeout = "2s";

    private readonly SemaphoreSlim _gate = new(1, 1);

    // Days whose partition is known to exist: filled by this class, cleared after a failed write in case a
    // partition was dropped behind the collector's back.
    private readonly ConcurrentDictionary<DateOnly, byte> _knownPartitions = new();

    private volatile bool _tablesReady;

    public PostgreSqlSchemaManager(
        PostgreSqlConnectionSource connection,
        IOptions<PostgreSqlSinkOptions> options,
        TimeProvider timeProvider,
        ILogger<PostgreSqlSchemaManager> logger)
    {
        _connection = connection;
        _options = options.Value;
        _time = timeProvider;
        _logger = logger;
        Schema = new PostgreSqlSchema(_options);
    }

    public PostgreSqlSchema Schema { get; }

    /// <summary>
    /// Creates the tables, today's partition and <see cref="PostgreSqlSinkOptions.PartitionsAhead"/> more, and drops
    /// the partitions older than <see cref="PostgreSqlSinkOptions.RetentionDays"/>.
    /// </summary>
    public async Task MaintainAsync(CancellationToken cancellationToken)
    {
        await EnsureTablesAsync(cancellationToken).ConfigureAwait(false);
        var today = PostgreSqlSchema.DayOf(_time.GetUtcNow());
        var days = new DateOnly[_options.PartitionsAhead + 1];
        for (var i = 0; i < days.Length; i++)
        {
            days[i] = today.AddDays(i);
        }

        await EnsurePartitionsAsync(days, cancellationToken).ConfigureAwait(false);
        if (_options.RetentionDays is { } retentionDays && _options.ManagePartitions)
        {
            await DropPartitionsBeforeAsync(today.AddDays(1 - retentionDays), retentionDays, cancellationToken).ConfigureAwait(false);
        }
    }

    public async ValueTask EnsureTablesAsync(CancellationToken cancellationToken)
    {
        if (_tablesReady || !_options.CreateSchema)
        {
            return;
        }

        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_tablesReady)
            {
                return;
            }

            await RunLockedAsync(Schema.CreateTablesScript(), cancellationToken).ConfigureAwait(false);
            _tablesReady = true;
            PostgreSqlLog.SchemaReady(_logger, Schema.SchemaName, Schema.EventsTableName, Schema.AuditTableName);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Makes sure the partitions of <paramref name="days"/> exist. Cheap when they are known to.</summary>
    public async ValueTask EnsurePartitionsAsync(IReadOnlyCollection<DateOnly> days, CancellationToken cancellationToken)
    {
        if (!_options.ManagePartitions || AllKnown(days))
        {
            return;
        }

        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (AllKnown(days))
            {
                return;
            }

            // Listing first avoids DDL (and its locks on the parent table) for partitions that already exist.
            var existing = await ListPartitionsAsync(cancellationToken).ConfigureAwait(false);
            var missing = new List<DateOnly>();
            foreach (var day in days)
            {
                if (existing.Contains(Schema.PartitionName(day)))
                {
                    _knownPartitions.TryAdd(day, 0);
                }
                else if (!missing.Contains(day))
                {
                    missing.Add(day);
                }
            }

            if (missing.Count == 0)
            {
                return;
            }

            var script = string.Concat(missing.Select(Schema.CreatePartitionScript));
            await RunLockedAsync(script, cancellationToken).ConfigureAwait(false);
            foreach (var day in missing)
            {
                _knownPartitions.TryAdd(day, 0);
                PostgreSqlLog.PartitionCreated(_logger, Schema.PartitionName(day));
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    public void Dispose() => _gate.Dispose();

    private async Task DropPartitionsBeforeAsync(DateOnly firstKept, int retentionDays, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var expired = new List<DateOnly>();
            foreach (var name in await ListPartitionsAsync(cancellationToken).ConfigureAwait(false))
            {
                if (Schema.DayOfPartition(name) is { } day && day < firstKept)
                {
                    expired.Add(day);
                }
            }

            if (expired.Count == 0)
            {
                return;
            }

            expired.Sort();
            await RunLockedAsync(string.Concat(expired.Select(Schema.DropPartitionScript)), cancellationToken).ConfigureAwait(false);
            foreach (var day in expired)
            {
                _knownPartitions.TryRemove(day, out _);
                PostgreSqlLog.PartitionDropped(_logger, Schema.PartitionName(day), retentionDays);
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Forgets what is known about the database, so the next write checks again.</summary>
    public void Forget()
    {
        _knownPartitions.Clear();
        _tablesReady = false;
    }

    private bool AllKnown(IReadOnlyCollection<DateOnly> days)
    {
        foreach (var day in days)
        {
            if (!_knownPartitions.ContainsKey(day))
            {
                return false;
            }
        }

        return true;
    }

    private async Task<HashSet<string>> ListPartitionsAsync(CancellationToken cancellationToken)
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        var connection = await _connection.DataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            var command = new NpgsqlCommand(Schema.ListPartitionsQuery(), connection);
            await using (command.ConfigureAwait(false))
            {
                var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
                await using (reader.ConfigureAwait(false))
                {
                    while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                    {
                        names.Add(reader.GetString(0));
                    }
                }
            }
        }

        return names;
    }

    private async Task RunLockedAsync(string script, CancellationToken cancellationToken)
    {
        var connection = await _connection.DataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
            await using (transaction.ConfigureAwait(false))
            {
                // Creating or dropping a partition locks the whole events table: behind a long query holding it, the
                // DDL would queue, and every write and read would queue behind the DDL. Once the collectors' own lock
                // is held, the DDL gives up after a short wait instead (lock_not_available); maintenance retries.
                var command = new NpgsqlCommand(
                    $"SELECT pg_advisory_xact_lock({PostgreSqlSchema.AdvisoryLockKey});\nSET LOCAL lock_timeout = '{DdlLockTimeout}';\n{script}",
                    connection,
                    transaction);
                await using (command.ConfigureAwait(false))
                {
                    await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                }

                await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
            }
        }
    }
}
