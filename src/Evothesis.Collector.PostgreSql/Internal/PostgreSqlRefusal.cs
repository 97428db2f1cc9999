using System.Text;
using Npgsql;

namespace Evothesis.Collector.Sinks.PostgreSql.Internal;

/// <summary>
/// Tells a batch PostgreSQL refuses for its data (writing it again will fail the same way) from an outage (writing it
/// again later will work), and describes a refusal without quoting the data.
/// </summary>
/// <remarks>
/// <para>
/// Refusals, by SQLSTATE class: <c>22</c> data exception (a NUL in text, <c>\u0000</c> in jsonb, a number numeric
/// cannot hold, malformed input), <c>23</c> integrity constraint violation (a not-null, foreign key, check or
/// exclusion constraint) except <c>23505</c>, the unique keys that deduplicate and that the writer handles, and
/// <c>54</c> program limit exceeded (a value too large for an index, nested too deeply). A .NET string that cannot
/// be encoded as UTF-8 is refused the same way, before the server sees it.
/// </para>
/// <para>
/// Everything else is an outage and is retried: <c>08</c> connection exception, <c>53</c> insufficient resources
/// (disk full, out of memory, too many connections), <c>57</c> operator intervention (shutdown, cancelled,
/// <c>statement_timeout</c>), <c>40</c> deadlock and serialization failures, <c>55</c> lock timeouts, <c>58</c> I/O
/// errors, socket errors and timeouts, and also <c>42</c> (a missing table, a missing privilege): those are the
/// database's configuration, not the events', and parking every event until it is fixed would be worse than holding
/// them in the spool. A row with no partition to go to is <c>23514</c> without a constraint name: also the database's
/// state (a partition dropped or not yet created), not the row's, so it is retried too (the sink creates the
/// partition again on the next attempt when it manages partitions).
/// </para>
/// <para>
/// The server's message text is never used: for some refusals it quotes the value (<c>value "…" is out of range for
/// type integer</c>, <c>invalid byte sequence for encoding "UTF8": 0x00</c>, <c>invalid input syntax for type
/// timestamp: "…"</c>). A refusal is described by its SQLSTATE, a fixed reason, and the names of the table, column and
/// constraint PostgreSQL reports, which are identifiers, never values.
/// </para>
/// </remarks>
internal static class PostgreSqlRefusal
{
    /// <summary>Whether <paramref name="exception"/> is PostgreSQL refusing the batch's data for good.</summary>
    /// <param name="exception">What the write threw.</param>
    /// <param name="sqlState">The SQLSTATE (<c>22021</c> for a string .NET cannot encode), or empty.</param>
    public static bool IsRefusal(Exception exception, out string sqlState)
    {
        switch (exception)
        {
            case PostgresException pg when IsRefusedState(pg):
                sqlState = pg.SqlState;
                return true;
            case RefusedValueException:
                sqlState = RefusedValueException.Code;
                return true;
            default:
                sqlState = "";
                return false;
        }
    }

    /// <summary>
    /// Builds the exception the sink throws for a refusal: SQLSTATE, a fixed reason, and the identifiers PostgreSQL
    /// named. It carries no inner exception, whose message could quote the value.
    /// </summary>
    public static EventsRejectedException ToRejected(Exception exception, int count)
    {
        IsRefusal(exception, out var sqlState);
        var message = new StringBuilder()
            .Append("PostgreSQL refused a batch of ").Append(count).Append(" event(s) for good (SQLSTATE ")
            .Append(sqlState).Append(": ").Append(Reason(sqlState)).Append(')');
        if (exception is PostgresException pg)
        {
            AppendName(message, "table", pg.TableName);
            AppendName(message, "column", pg.ColumnName);
            AppendName(message, "constraint", pg.ConstraintName);
        }

        return new EventsRejectedException(message.Append("; nothing of it was stored.").ToString());
    }

    /// <summary>A fixed description of what kind of value a SQLSTATE refuses; never the value itself.</summary>
    public static string Reason(string sqlState) => sqlState switch
    {
        "22001" => "a string too long for its column",
        "22003" => "a number out of the range of its type",
        "22007" or "22008" => "a date or time that is malformed or out of range",
        "22021" => "a character that cannot be stored in UTF-8 text, such as NUL",
        "22P02" => "a value whose syntax its type refuses, such as malformed JSON",
        "22P05" => "a Unicode escape PostgreSQL cannot store, such as \\u0000 in JSON",
        "23502" => "a missing value in a NOT NULL column",
        "23503" => "a value without the row its foreign key references",
        "23514" => "a row a check constraint refuses",
        "23P01" => "a row an exclusion constraint refuses",
        "54000" => "a value over a size limit, such as a key too large for its index",
        "54001" => "a value too complex, such as JSON nested too deeply",
        _ when sqlState.StartsWith("22", StringComparison.Ordinal) => "a value its column's type refuses",
        _ when sqlState.StartsWith("23", StringComparison.Ordinal) => "a row an integrity constraint refuses",
        _ when sqlState.StartsWith("54", StringComparison.Ordinal) => "a value over one of PostgreSQL's limits",
        _ => "a value PostgreSQL refuses",
    };

    private static bool IsRefusedState(PostgresException pg)
    {
        var state = pg.SqlState;
        if (state.StartsWith("22", StringComparison.Ordinal) || state.StartsWith("54", StringComparison.Ordinal))
        {
            return true;
        }

        if (!state.StartsWith("23", StringComparison.Ordinal) || state == PostgresErrorCodes.UniqueViolation)
        {
            return false;
        }

        // "no partition of relation ... found for row" shares 23514 with check constraints but names no constraint.
        return state != PostgresErrorCodes.CheckViolation || !string.IsNullOrEmpty(pg.ConstraintName);
    }

    private static void AppendName(StringBuilder message, string kind, string? name)
    {
        if (!string.IsNullOrEmpty(name))
        {
            message.Append(", ").Append(kind).Append(' ').Append(name);
        }
    }
}
