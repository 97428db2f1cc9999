using System.Buffers;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace Evothesis.Collector.Ingestion.Internal;

/// <summary>Builds <c>/collect</c> response bodies: the acceptance summary and RFC 7807 problems.</summary>
internal static class ResponseWriter
{
    public const string JsonContentType = "application/json";
    public const string ProblemContentType = "application/problem+json";

    private static readonly JsonWriterOptions Options = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    // The bodies of full acceptances, the common answer, by count: built once, shared (the body is read-only).
    private static readonly byte[]?[] AllAccepted = new byte[]?[257];

    public static CollectorResponse Accepted(int accepted, IReadOnlyList<Rejection> rejected, string domain)
    {
        if (rejected.Count == 0 && (uint)accepted < (uint)AllAccepted.Length)
        {
            var body = AllAccepted[accepted] ??= Write(accepted, rejected).ToArray();
            return new CollectorResponse(202, JsonContentType, body, null, accepted) { AuthorizedDomain = domain };
        }

        return new CollectorResponse(202, JsonContentType, Write(accepted, rejected), null, accepted) { AuthorizedDomain = domain };
    }

    private static ReadOnlyMemory<byte> Write(int accepted, IReadOnlyList<Rejection> rejected)
    {
        var buffer = new ArrayBufferWriter<byte>(64 + (rejected.Count * 48));
        using (var writer = new Utf8JsonWriter(buffer, Options))
        {
            writer.WriteStartObject();
            writer.WriteNumber("accepted", accepted);
            WriteRejected(writer, rejected);
            writer.WriteEndObject();
        }

        return buffer.WrittenMemory;
    }

    public static CollectorResponse Problem(
        int status,
        string type,
        string title,
        string detail,
        TimeSpan? retryAfter = null,
        IReadOnlyList<Rejection>? rejected = null,
        string? authorizedDomain = null)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(buffer, Options))
        {
            writer.WriteStartObject();
            writer.WriteString("type", type);
            writer.WriteString("title", title);
            writer.WriteNumber("status", status);
            writer.WriteString("detail", detail);
            if (rejected is not null)
            {
                writer.WriteNumber("accepted", 0);
                WriteRejected(writer, rejected);
            }

            writer.WriteEndObject();
        }

        return new CollectorResponse(status, ProblemContentType, buffer.WrittenMemory, retryAfter, 0) { AuthorizedDomain = authorizedDomain };
    }

    public static CollectorResponse Problem(CollectorProblemException problem) =>
        Problem(problem.Status, problem.Type, problem.Title, problem.Message, rejected: problem.Rejected);

    private static void WriteRejected(Utf8JsonWriter writer, IReadOnlyList<Rejection> rejected)
    {
        writer.WriteStartArray("rejected");
        foreach (var r in rejected)
        {
            writer.WriteStartObject();
            writer.WriteNumber("index", r.Index);
            writer.WriteString("reason", r.Reason);
            writer.WriteEndObject();
        }

        writer.WriteEndArray();
    }
}
