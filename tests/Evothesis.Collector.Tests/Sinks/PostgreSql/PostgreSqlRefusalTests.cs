using Evothesis.Collector.Sinks.PostgreSql.Internal;
using Npgsql;

namespace Evothesis.Collector.Tests.Sinks.PostgreSql;

/// <summary>Which failures are the data's (parked after a few attempts) and which are outages (retried while the spool has room).</summary>
public sealed class PostgreSqlRefusalTests
{
    [TestCase("22001")] // string too long
    [TestCase("22003")] // numeric value out of range
    [TestCase("22007")] // invalid datetime format
    [TestCase("22021")] // character not in repertoire (NUL)
    [TestCase("22P02")] // invalid text representation
    [TestCase("22P05")] // untranslatable character (\u0000 in jsonb)
    [TestCase("23502")] // not null violation
    [TestCase("23503")] // foreign key violation
    [TestCase("23P01")] // exclusion violation
    [TestCase("54000")] // program limit exceeded (index row too large)
    [TestCase("54001")] // statement too complex
    public void IsRefusal_DataExceptionsConstraintsAndLimits_AreRefusals(string sqlState)
    {
        PostgreSqlRefusal.IsRefusal(Error(sqlState), out var state).Should().BeTrue();
        state.Should().Be(sqlState);
    }

    [TestCase("23505")] // unique violation: the duplicates the writer skips
    [TestCase("08006")] // connection failure
    [TestCase("08001")] // unable to connect
    [TestCase("40P01")] // deadlock
    [TestCase("40001")] // serialization failure
    [TestCase("42501")] // insufficient privilege
    [TestCase("42P01")] // undefined table
    [TestCase("53100")] // disk full
    [TestCase("53200")] // out of memory
    [TestCase("53300")] // too many connections
    [TestCase("55P03")] // lock not available
    [TestCase("57014")] // query canceled (statement_timeout)
    [TestCase("57P01")] // admin shutdown
    [TestCase("57P03")] // cannot connect now (starting up)
    [TestCase("58030")] // I/O error
    [TestCase("XX000")] // internal error
    public void IsRefusal_OutagesAndTheDatabasesConfiguration_AreNot(string sqlState)
    {
        PostgreSqlRefusal.IsRefusal(Error(sqlState), out _).Should().BeFalse();
    }

    [Test]
    public void IsRefusal_CheckViolation_IsARefusalOnlyWhenItNamesAConstraint()
    {
        PostgreSqlRefusal.IsRefusal(Error("23514", constraint: "no_boom"), out _).Should().BeTrue();

        // "no partition of relation ... found for row": the database's state, not the row's.
        PostgreSqlRefusal.IsRefusal(Error("23514"), out _).Should().BeFalse();
    }

    [Test]
    public void IsRefusal_SocketErrorsAndTimeouts_AreNot()
    {
        PostgreSqlRefusal.IsRefusal(new NpgsqlException("Exception while reading from stream", new IOException()), out _).Should().BeFalse();
        PostgreSqlRefusal.IsRefusal(new TimeoutException(), out _).Should().BeFalse();
        PostgreSqlRefusal.IsRefusal(new OperationCanceledException(), out _).Should().BeFalse();
    }

    [Test]
    public void ToRejected_NamesStateReasonAndIdentifiers_NeverTheServersMessage()
    {
        var error = Error("22003", message: "value \"123456789012\" is out of range for type integer", table: "events_p20261126", column: "event_data");

        var rejected = PostgreSqlRefusal.ToRejected(error, 12);

        rejected.Message.Should().Be(
            "PostgreSQL refused a batch of 12 event(s) for good (SQLSTATE 22003: a number out of the range of its type), " +
            "table events_p20261126, column event_data; nothing of it was stored.");
        rejected.InnerException.Should().BeNull();
    }

    private static PostgresException Error(string sqlState, string message = "refused", string? table = null, string? column = null, string? constraint = null) =>
        new(message, "ERROR", "ERROR", sqlState, tableName: table, columnName: column, constraintName: constraint);
}
