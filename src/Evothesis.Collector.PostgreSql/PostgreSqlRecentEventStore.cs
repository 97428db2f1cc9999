using Evothesis.Collector.Events;
using Evothesis.Collector.Sinks.PostgreSql.Internal;
using Evothesis.Collector.Sinks.Recent;
using Npgsql;
using NpgsqlTypes;

namespace Evothesis.Collector.Sinks.PostgreSql;

/// <summary>
/// <c>GET /events/recent</c> from the events table: newest first by <c>received_at</c> (then id), optionally of
/// one client. Served by the primary key <c>(received_at, id)</c> and the <c>(client_id, received_at)</c> index.
/// </summary>
internal sealed class PostgreSqlRecentEventStore : IRecentEventStore
{
    private readonly PostgreSqlConnectionSource _connection;
    private readonly string _all;
    private readonly string _ofClient;

    public PostgreSqlRecentEventStore(PostgreSqlConnectionSource connection, PostgreSqlSchemaManager schema)
    {
        _connection = connection;
        var select = $"SELECT {PostgreSqlSchema.EventColumns} FROM {schema.Schema.Events}";
        _all = select + " ORDER BY received_at DESC, id DESC LIMIT $1";
        _ofClient = select + " WHERE client_id = $2 ORDER BY received_at DESC, id DESC LIMIT $1";
    }

    public async ValueTask<IReadOnlyList<CollectedEvent>> GetRecentAsync(int limit, string? clientId, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(limit);
        var events = new List<CollectedEvent>(Math.Min(limit, 1000));
        if (limit == 0)
        {
            return events;
        }

        var command = _connection.DataSource.CreateCommand(clientId is null ? _all : _ofClient);
        await using (command.ConfigureAwait(false))
        {
            command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = limit, NpgsqlDbType = NpgsqlDbType.Integer });
            if (clientId is not null)
            {
                command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = clientId, NpgsqlDbType = NpgsqlDbType.Text });
            }

            var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            await using (reader.ConfigureAwait(false))
            {
                while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    events.Add(Read(reader));
                }
            }
        }

        return events;
    }

    private static CollectedEvent Read(NpgsqlDataReader reader) => new()
    {
        Id = reader.GetGuid(0),
        EventId = NullableString(reader, 1),
        ClientId = reader.GetString(2),
        SiteId = reader.GetString(3),
        SessionId = NullableString(reader, 4),
        EventType = reader.GetString(5),
        Timestamp = reader.GetFieldValue<DateTimeOffset>(6),
        ClientTimestamp = NullableString(reader, 7),
        ReceivedAt = reader.GetFieldValue<DateTimeOffset>(8),
        PageData = Json(reader, 9),
        EventData = Json(reader, 10),
        CustomData = Json(reader, 11),
        Consent = Json(reader, 12),
        Ip = NullableString(reader, 13),
        UserAgent = NullableString(reader, 14),
    };

    private static string? NullableString(NpgsqlDataReader reader, int ordinal) =>
        reader.IsDBNull(ordinal) ? null : reader.GetString(ordinal);

    // jsonb comes back as PostgreSQL's normalised text (keys sorted by length then bytes, ": " separators):
    // the same JSON value, written differently from what the client sent.
    private static RawJson Json(NpgsqlDataReader reader, int ordinal) =>
        reader.IsDBNull(ordinal) ? RawJson.Null : RawJson.FromValidated(reader.GetFieldValue<byte[]>(ordinal));
}
