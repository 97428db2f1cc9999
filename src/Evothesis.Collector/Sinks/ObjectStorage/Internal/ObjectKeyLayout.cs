using System.Globalization;
using System.Text;

namespace Evothesis.Collector.Sinks.ObjectStorage.Internal;

/// <summary>
/// The object layout: Hive-style partitions that Athena, Spark, DuckDB and ClickHouse read without a loader,
/// <c>{prefix}/client_id={id}/date=YYYY-MM-DD/hour=HH/{yyyyMMddTHHmmssZ}-{batch id}.ndjson.gz</c>.
/// </summary>
/// <remarks>
/// The key depends only on the batch and the client, so writing the same batch again replaces its objects
/// instead of adding copies.
/// </remarks>
internal static class ObjectKeyLayout
{
    public const string Extension = ".ndjson.gz";

    public static string GetKey(string? prefix, string clientId, DateTimeOffset batchCreatedAt, Guid batchId)
    {
        var time = batchCreatedAt.ToUniversalTime();
        var builder = new StringBuilder(128);
        if (!string.IsNullOrEmpty(prefix))
        {
            builder.Append(prefix.Trim('/')).Append('/');
        }

        builder.Append("client_id=");
        AppendEscaped(builder, clientId);
        builder.Append(CultureInfo.InvariantCulture, $"/date={time:yyyy-MM-dd}/hour={time:HH}/{time:yyyyMMdd'T'HHmmss'Z'}-{batchId:N}{Extension}");
        return builder.ToString();
    }

    // Hive escapes partition values with %XX; so do we, for every character that is not plainly safe in
    // a path segment. A client id can therefore never add a path segment or climb out of its partition.
    private static void AppendEscaped(StringBuilder builder, string value)
    {
        foreach (var b in Encoding.UTF8.GetBytes(value))
        {
            if (char.IsAsciiLetterOrDigit((char)b) || b is (byte)'_' or (byte)'-' or (byte)'.')
            {
                builder.Append((char)b);
            }
            else
            {
                builder.Append('%').Append(b.ToString("X2", CultureInfo.InvariantCulture));
            }
        }
    }
}
