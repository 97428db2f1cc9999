using System.IO.Compression;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace Evothesis.Collector.Sinks.ObjectStorage.Internal;

/// <summary>Encodes records as gzip-compressed NDJSON (one JSON object per line) into a pooled buffer.</summary>
internal static class GzipNdjson
{
    // Objects are read by analytics tools, not embedded in HTML: no need to escape non-ASCII or HTML characters.
    private static readonly JsonWriterOptions WriterOptions = new()
    {
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        SkipValidation = true,
    };

    /// <summary>Encodes the items, one line each; the stream is positioned at its start for reading.</summary>
    public static PooledBufferStream Encode<T>(IReadOnlyList<T> items, Action<Utf8JsonWriter, T> write)
    {
        var output = new PooledBufferStream();
        try
        {
            using (var gzip = new GZipStream(output, CompressionLevel.Fastest, leaveOpen: true))
            using (var writer = new Utf8JsonWriter(gzip, WriterOptions))
            {
                foreach (var item in items)
                {
                    write(writer, item);
                    writer.Flush();
                    writer.Reset();
                    gzip.WriteByte((byte)'\n');
                }
            }

            output.Position = 0;
            return output;
        }
        catch
        {
            output.Dispose();
            throw;
        }
    }
}
