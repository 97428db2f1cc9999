using System.Text.Json;
using Evothesis.Collector.Audit;
using Evothesis.Collector.Sinks.PostgreSql.Internal;
using Npgsql;
using NpgsqlTypes;

namespace Evothesis.Collector.Sinks.PostgreSql;

/// <summary>
/// Stores audit records in the audit table (<c>audit_log</c> by default), all records of one call in one
/// transaction. Idempotent: a record written again (same id) is stored once.
/// </summary>
internal sealed class PostgreSqlAuditSink : IAuditSink
{
    private readonly PostgreSqlConnectionSource _connection;
    private readonly PostgreSqlSchemaManager _schema;
    private readonly string _insert;

    public PostgreSqlAuditSink(PostgreSqlConnectionSource connection, PostgreSqlSchemaManager schema)
    {
        _connection = connection;
        _schema = schema;
        _insert = $"INSERT INTO {schema.Schema.Audit} ({PostgreSqlSchema.AuditColumns}) " +
            "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (id) DO NOTHING";
        Name = "postgresql:" + schema.Schema.AuditTableName;
    }

    public string Name { get; }

    public async ValueTask WriteAsync(IReadOnlyList<AuditRecord> records, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(records);
        if (records.Count == 0)
        {
            return;
        }

        try
        {
            await WriteCoreAsync(records, cancellationToken).ConfigureAwait(false);
        }
        catch (NpgsqlException ex) when (ex.IsTransient)
        {
            // Dead pooled connections after a restart: let the next write start on fresh ones.
            _connection.DataSource.Clear();
            throw;
        }
    }

    private async Task WriteCoreAsync(IReadOnlyList<AuditRecord> records, CancellationToken cancellationToken)
    {
        await _schema.EnsureTablesAsync(cancellationToken).ConfigureAwait(false);
        var connection = await _connection.DataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
            await using (transaction.ConfigureAwait(false))
            {
                // One round trip for all records.
                var batch = new NpgsqlBatch(connection, transaction);
                await using (batch.ConfigureAwait(false))
                {
                    foreach (var record in records)
                    {
                        ArgumentNullException.ThrowIfNull(record);
                        var command = new NpgsqlBatchCommand(_insert);
                        command.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = record.Id, NpgsqlDbType = NpgsqlDbType.Uuid });
                        command.Parameters.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = record.Time.ToUniversalTime(), NpgsqlDbType = NpgsqlDbType.TimestampTz });
                        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = record.ClientId, NpgsqlDbType = NpgsqlDbType.Text });
                        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = record.SiteId, NpgsqlDbType = NpgsqlDbType.Text });
                        command.Parameters.Add(new NpgsqlParameter { Value = (object?)record.RequestId ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
                        command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = record.EventCount, NpgsqlDbType = NpgsqlDbType.Integer });
                        command.Parameters.Add(new NpgsqlParameter<byte[]> { TypedValue = EventTypesJson(record.EventTypes), NpgsqlDbType = NpgsqlDbType.Jsonb });
                        command.Parameters.Add(new NpgsqlParameter { Value = (object?)record.IpHash ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
                        command.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = [.. record.Redactions], NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });
                        batch.BatchCommands.Add(command);
                    }

                    await batch.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                }

                await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
            }
        }
    }

    private static byte[] EventTypesJson(IReadOnlyDictionary<string, int> types)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            foreach (var (type, count) in types.OrderBy(t => t.Key, StringComparer.Ordinal))
            {
                writer.WriteNumber(type, count);
            }

            writer.WriteEndObject();
        }

        return buffer.ToArray();
    }
}
