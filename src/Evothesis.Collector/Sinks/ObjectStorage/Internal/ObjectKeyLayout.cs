using System.Globalization;
using System.Text;

namespace Evothesis.Collector.Sinks.ObjectStorage.Internal;

/// <summary>
/// The object layout: Hive-style partitions that Athena, Spark, DuckDB and ClickHouse read without a loader,
/// <c>{prefix}/client_id={id}/date=YYYY-MM-DD/hour=HH/{yyyyMMddTHHmmssZ}-{batch id}.ndjson.gz</c>.
/// </summary>
/// <remarks>
/// The key depends only on the batch and the client, so writing the same batch again replaces its objects
/// instead of adding copies. Partitions follow the batch's time (UTC): when its first event was spooled, at most
/// the object's age limit before the others' <c>received_at</c> in steady traffic.
/// </remarks>
internal static class ObjectKeyLayout
{
    public const string Extension = ".ndjson.gz";

    private const string ClientPartition = "client_id=";
    private const string DatePartition = "date=";
    private const string HourPartition = "hour=";
    private const string TimeFormat = "yyyyMMdd'T'HHmmss'Z'";

    public static string GetKey(string? prefix, string clientId, DateTimeOffset batchCreatedAt, Guid batchId)
    {
        var time = batchCreatedAt.ToUniversalTime();
        var builder = new StringBuilder(128);
        builder.Append(NormalizePrefix(prefix));
        AppendClientPartition(builder, clientId);
        builder.Append(CultureInfo.InvariantCulture, $"{DatePartition}{time:yyyy-MM-dd}/{HourPartition}{time:HH}/{time:yyyyMMdd'T'HHmmss'Z'}-{batchId:N}{Extension}");
        return builder.ToString();
    }

    /// <summary>Returns the prefix as keys start with it: empty, or without leading and with one trailing <c>/</c>.</summary>
    public static string NormalizePrefix(string? prefix)
    {
        var trimmed = prefix?.Trim('/');
        return string.IsNullOrEmpty(trimmed) ? string.Empty : trimmed + "/";
    }

    /// <summary>The key prefix of one client's partition, such as <c>events/client_id=acme/</c>.</summary>
    public static string GetClientPrefix(string? prefix, string clientId)
    {
        var builder = new StringBuilder(64).Append(NormalizePrefix(prefix));
        AppendClientPartition(builder, clientId);
        return builder.ToString();
    }

    /// <summary>The key prefix of one client's day, such as <c>client_id=acme/date=2026-11-26/</c>.</summary>
    public static string GetDatePrefix(string clientPrefix, DateOnly date) =>
        string.Create(CultureInfo.InvariantCulture, $"{clientPrefix}{DatePartition}{date:yyyy-MM-dd}/");

    /// <summary>Reads the client, batch time and batch id back from a key under <paramref name="prefix"/>.</summary>
    public static bool TryParse(string? prefix, string key, out ObjectKeyInfo info)
    {
        info = default;
        var normalized = NormalizePrefix(prefix);
        if (!key.StartsWith(normalized, StringComparison.Ordinal) || !key.EndsWith(Extension, StringComparison.Ordinal))
        {
            return false;
        }

        var parts = key[normalized.Length..].Split('/');
        if (parts.Length != 4
            || !parts[0].StartsWith(ClientPartition, StringComparison.Ordinal)
            || !parts[1].StartsWith(DatePartition, StringComparison.Ordinal)
            || !parts[2].StartsWith(HourPartition, StringComparison.Ordinal)
            || !TryUnescape(parts[0][ClientPartition.Length..], out var clientId))
        {
            return false;
        }

        // {yyyyMMddTHHmmssZ}-{32 hex}.ndjson.gz
        var name = parts[3].AsSpan(0, parts[3].Length - Extension.Length);
        if (name.Length != 16 + 1 + 32 || name[16] != '-'
            || !DateTimeOffset.TryParseExact(name[..16], TimeFormat, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var createdAt)
            || !Guid.TryParseExact(name[17..], "N", out var batchId))
        {
            return false;
        }

        // The partitions must agree with the file name, or the key was not written by this layout.
        if (parts[1] != string.Create(CultureInfo.InvariantCulture, $"{DatePartition}{createdAt:yyyy-MM-dd}")
            || parts[2] != string.Create(CultureInfo.InvariantCulture, $"{HourPartition}{createdAt:HH}"))
        {
            return false;
        }

        info = new ObjectKeyInfo(clientId, createdAt, batchId);
        return true;
    }

    private static void AppendClientPartition(StringBuilder builder, string clientId)
    {
        builder.Append(ClientPartition);
        AppendEscaped(builder, clientId);
        builder.Append('/');
    }

    // Hive escapes partition values with %XX; so do we, for every character that is not plainly safe in
    // a path segment. A client id can therefore never add a path segment or climb out of its partition.
    private static void AppendEscaped(StringBuilder builder, string value)
    {
        foreach (var b in Encoding.UTF8.GetBytes(value))
        {
            if (IsSafe(b))
            {
                builder.Append((char)b);
            }
            else
            {
                builder.Append('%').Append(b.ToString("X2", CultureInfo.InvariantCulture));
            }
        }
    }

    private static bool IsSafe(byte b) => char.IsAsciiLetterOrDigit((char)b) || b is (byte)'_' or (byte)'-' or (byte)'.';

    private static bool TryUnescape(string escaped, out string value)
    {
        value = string.Empty;
        if (escaped.Length == 0)
        {
            return false;
        }

        var bytes = new List<byte>(escaped.Length);
        for (var i = 0; i < escaped.Length; i++)
        {
            var c = escaped[i];
            if (c == '%')
            {
                if (i + 2 >= escaped.Length
                    || !byte.TryParse(escaped.AsSpan(i + 1, 2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var b))
                {
                    return false;
                }

                bytes.Add(b);
                i += 2;
            }
            else if (c < 128 && IsSafe((byte)c))
            {
                bytes.Add((byte)c);
            }
            else
            {
                return false;
            }
        }

        try
        {
            value = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true).GetString(bytes.ToArray());
            return true;
        }
        catch (DecoderFallbackException)
        {
            return false;
        }
    }
}

/// <summary>What an object key says about its object.</summary>
/// <param name="ClientId">The client.</param>
/// <param name="BatchCreatedAt">When the batch was closed, to the second.</param>
/// <param name="BatchId">The batch identifier.</param>
internal readonly record struct ObjectKeyInfo(string ClientId, DateTimeOffset BatchCreatedAt, Guid BatchId);
