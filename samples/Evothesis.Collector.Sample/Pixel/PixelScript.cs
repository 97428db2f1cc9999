using System.Reflection;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using Evothesis.Collector.Authorization;

namespace Evothesis.Collector.Sample.Pixel;

/// <summary>
/// The tracking script template (<c>Pixel/tracking.js</c>, embedded in the assembly) and its rendering with
/// one client's configuration.
/// </summary>
internal sealed class PixelScript
{
    /// <summary>The expression in the template that the configuration object replaces.</summary>
    public const string Placeholder = "/*__EVOTHESIS_CONFIG__*/null";

    // JavaScriptEncoder.Default escapes <, >, &, quotes, U+2028/U+2029 and all non-ASCII, so no string in
    // the configuration can end the script, the string or the object it sits in.
    private static readonly JsonWriterOptions WriterOptions = new() { Encoder = JavaScriptEncoder.Default };

    private readonly byte[] _prefix;
    private readonly byte[] _suffix;

    public PixelScript(string template)
    {
        ArgumentNullException.ThrowIfNull(template);
        var at = template.IndexOf(Placeholder, StringComparison.Ordinal);
        if (at < 0 || template.IndexOf(Placeholder, at + 1, StringComparison.Ordinal) >= 0)
        {
            throw new InvalidOperationException($"The tracking script template must contain '{Placeholder}' exactly once.");
        }

        _prefix = Encoding.UTF8.GetBytes(template[..at]);
        _suffix = Encoding.UTF8.GetBytes(template[(at + Placeholder.Length)..]);
    }

    /// <summary>Loads the template embedded in this assembly.</summary>
    public static PixelScript FromEmbeddedTemplate()
    {
        const string name = "Evothesis.Collector.Sample.Pixel.tracking.js";
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream(name)
            ?? throw new InvalidOperationException($"The tracking script template '{name}' is not embedded in the sample assembly.");
        using var reader = new StreamReader(stream, Encoding.UTF8);
        return new PixelScript(reader.ReadToEnd());
    }

    /// <summary>Renders the script for a client.</summary>
    /// <param name="client">The client; only its id, privacy level and consent rules are written (never the salt).</param>
    /// <param name="endpoint">The absolute URL the pixel sends events to.</param>
    /// <param name="options">The pixel's batching and retry settings.</param>
    /// <returns>The script, UTF-8.</returns>
    public byte[] Render(ClientConfig client, string endpoint, PixelOptions options)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(endpoint);
        ArgumentNullException.ThrowIfNull(options);

        using var buffer = new MemoryStream(_prefix.Length + _suffix.Length + 512);
        buffer.Write(_prefix);
        using (var writer = new Utf8JsonWriter(buffer, WriterOptions))
        {
            // Fields are copied one by one on purpose: the client configuration also holds the IP salt.
            writer.WriteStartObject();
            writer.WriteString("client_id", client.ClientId);
            writer.WriteString("endpoint", endpoint);
            writer.WriteString("privacy_mode", client.PrivacyLevel switch
            {
                PrivacyLevel.Gdpr => "gdpr",
                PrivacyLevel.Hipaa => "hipaa",
                _ => "standard",
            });
            writer.WriteStartObject("consent");
            writer.WriteBoolean("required", client.Consent.Required);
            writer.WriteString("default_behavior", client.Consent.DefaultBehavior == ConsentDefault.OptOut ? "opt_out" : "opt_in");
            writer.WriteEndObject();
            writer.WriteNumber("batch_size", options.BatchSize);
            writer.WriteNumber("flush_interval", (long)options.FlushInterval.TotalMilliseconds);
            writer.WriteNumber("max_retries", options.MaxRetries);
            writer.WriteEndObject();
        }

        buffer.Write(_suffix);
        return buffer.ToArray();
    }
}
