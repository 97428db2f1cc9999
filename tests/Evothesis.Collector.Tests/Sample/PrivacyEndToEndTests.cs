using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.IO.Compression;
using System.Net;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using Evothesis.Collector.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace Evothesis.Collector.Tests.Sample;

/// <summary>
/// Posts personal data to the sample host for a gdpr and a hipaa client and then reads back every byte the
/// collector produced: stored event files, audit files, <c>/events/recent</c>, responses, every log record
/// (all levels, message, structured state, exception) and every metric tag. None may hold a raw value.
/// </summary>
public sealed class PrivacyEndToEndTests
{
    private const string GdprOrigin = "https://shop.acme.com";
    private const string GdprSalt = "sample-salt-acme-2f9c41d7e0b3";
    private const string HipaaOrigin = "https://clinic.example";
    private const string HipaaSalt = "sample-salt-clinic-7d03be91a4c6";
    private static readonly IPAddress GdprVisitor = IPAddress.Parse("198.51.100.23");
    private static readonly IPAddress HipaaVisitor = IPAddress.Parse("192.0.2.144");

    // Known answers, computed outside .NET: printf '%s' 198.51.100.23 | openssl dgst -sha256 -hmac sample-salt-acme-2f9c41d7e0b3
    private const string GdprVisitorHash = "a5ab4930946611d2fac63e9d0008aa7027e038db513dfcdbedc2aa18742e48cc";
    private const string HipaaVisitorHash = "8efde83d0029cd8a26f85789a1dfc8096c69ecf3ef1fc5d0de0ab9d74529a695";

    // What must never appear anywhere, as sent.
    private static readonly string[] RawValues =
    [
        "jane.doe@example.com", "jane.doe%40example.com", "Jane Q. Public", "+1 555 867 5309", "555 867 5309",
        "4111 1111 1111 1111", "4111111111111111", "4012888888881881", "Please call me back", "078-05-1120",
        "DE89 3704 0044 0532 0130 00", "hunter2-secret", "sk_live_51HxYz", "pat.smith@clinic-mail.org", "persistent cough",
        GdprVisitor.ToString(), HipaaVisitor.ToString(), GdprSalt, HipaaSalt,

        // Sent as sessionId, eventId and eventType.
        "sam.jones@example.org", "5555 5555 5555 4444", "5555555555554444", "+44 20 7946 0958", "20 7946 0958",
        "+1 202 555 0143", "202 555 0143", "lee.wong@clinic-mail.org", "GB82 WEST 1234 5698 7654 32",
    ];

    // What must come through untouched.
    private static readonly string[] KeptValues =
    [
        "ORD-12345", "299.99", "SKU-88412", "charged on 2025-03-14;", "550e8400-e29b-41d4-a716-446655440000", "Checkout",
        "utm_source=newsletter", "https://shop.acme.com/checkout?email=", "formData", "\"email\"", "\"message\"", "contact-form",
        "v2.14.0", "1732622400000", "sess_e2e", "e2e-1", "callback_request",
    ];

    [Test]
    public async Task Collect_PersonalData_NeverReachesStorageLogsOrMetrics()
    {
        await using var host = new SampleHost();
        var tags = new ConcurrentQueue<string>();
        using var listener = ListenToMetricTags(host.Services.GetRequiredService<IMeterFactory>(), tags);
        var responses = new List<string>();

        var gdpr = await host.SendAsync("POST", "/collect", GdprVisitor, GdprBody, new Dictionary<string, string>
        {
            ["Origin"] = GdprOrigin,
            ["User-Agent"] = "Mozilla/5.0 (E2E)",
        });
        responses.Add(gdpr.Body);
        var hipaa = await host.SendAsync("POST", "/collect", HipaaVisitor, HipaaBody, new Dictionary<string, string> { ["Origin"] = HipaaOrigin });
        responses.Add(hipaa.Body);
        var recent = await host.SendAsync("GET", "/events/recent?limit=1000");
        listener.RecordObservableInstruments();

        gdpr.StatusCode.Should().Be(202, gdpr.Body);
        JsonDocument.Parse(gdpr.Body).RootElement.GetProperty("accepted").GetInt32().Should().Be(5);
        hipaa.StatusCode.Should().Be(202, hipaa.Body);
        var hipaaResponse = JsonDocument.Parse(hipaa.Body).RootElement;
        hipaaResponse.GetProperty("accepted").GetInt32().Should().Be(2);
        hipaaResponse.GetProperty("rejected")[0].GetProperty("reason").GetString().Should().Be("consent");

        // Every stored byte: event files and audit files, decompressed.
        // A spool consumer may be replacing its checkpoint meanwhile: its temporary file is renamed away.
        var files = Directory.GetFiles(host.StoragePath, "*", SearchOption.AllDirectories)
            .Where(f => !f.EndsWith(Evothesis.Collector.Spool.Internal.SpoolFormat.TemporaryExtension, StringComparison.Ordinal)).ToArray();
        files.Should().Contain(f => f.Contains($"{Path.DirectorySeparatorChar}client_id=client_acme_corp{Path.DirectorySeparatorChar}", StringComparison.Ordinal));
        var auditFiles = files.Where(f => Path.GetRelativePath(host.StoragePath, f).StartsWith("audit", StringComparison.Ordinal)).ToArray();
        auditFiles.Should().ContainSingle("the hipaa request leaves one audit record file");
        files.Should().NotContain(f => f.EndsWith(".partial", StringComparison.Ordinal));
        var stored = files.Select(ReadStoredText).ToArray();

        var logs = host.Logs.GetSnapshot();
        logs.Should().NotBeEmpty();
        var logText = logs.Select(r => string.Join(
            " | ",
            r.Category,
            r.Message,
            string.Join(",", r.StructuredState?.Select(p => $"{p.Key}={p.Value}") ?? []),
            string.Join(",", r.Scopes.Select(s => s?.ToString())),
            r.Exception?.ToString())).ToArray();
        logText.Should().Contain(l => l.Contains("Bulk inserted", StringComparison.Ordinal), "the capture sees the collector's own logs");
        logs.Should().Contain(r => r.Level == Microsoft.Extensions.Logging.LogLevel.Debug, "the capture sees every level");
        tags.Should().Contain(t => t.StartsWith("rule=", StringComparison.Ordinal), "the capture sees the redaction metrics");

        var everything = new Dictionary<string, IReadOnlyList<string>>
        {
            ["stored files"] = stored,
            ["/events/recent"] = [recent.Body],
            ["responses"] = responses,
            ["log records"] = logText,
            ["metric tags"] = tags.ToArray(),
        };
        foreach (var (source, texts) in everything)
        {
            foreach (var raw in RawValues)
            {
                foreach (var form in Forms(raw))
                {
                    texts.Should().NotContain(t => t.Contains(form, StringComparison.OrdinalIgnoreCase), $"'{raw}' must not appear in {source}");
                }
            }
        }

        var allStored = string.Join("\n", stored);
        foreach (var kept in KeptValues)
        {
            allStored.Should().Contain(kept, "non-personal data must be stored intact");
            recent.Body.Should().Contain(kept);
        }

        // The stored IP is the lower-case hex HMAC-SHA256 of the visitor's address keyed with the client's salt.
        using var recentEvents = JsonDocument.Parse(recent.Body);
        var ips = recentEvents.RootElement.EnumerateArray()
            .Select(e => (Client: e.GetProperty("client_id").GetString(), Ip: e.GetProperty("ip").GetString()))
            .ToArray();
        ips.Where(e => e.Client == "client_acme_corp").Select(e => e.Ip).Should().HaveCount(5).And.AllBe(GdprVisitorHash);
        ips.Where(e => e.Client == "client_clinic_demo").Select(e => e.Ip).Should().HaveCount(2).And.AllBe(HipaaVisitorHash);

        // Identifiers that held personal data are stored redacted; an eventId holding it is removed.
        var identified = recentEvents.RootElement.EnumerateArray()
            .Where(e => e.GetProperty("eventType").GetString()!.StartsWith("callback", StringComparison.Ordinal))
            .Select(e => (Client: e.GetProperty("client_id").GetString(), Type: e.GetProperty("eventType").GetString(), Session: e.GetProperty("sessionId").GetString(), EventId: e.GetProperty("eventId").ValueKind))
            .ToArray();
        identified.Should().BeEquivalentTo(new[]
        {
            (Client: (string?)"client_acme_corp", Type: (string?)"callback_request [redacted:phone]", Session: (string?)"[redacted:email]", EventId: JsonValueKind.Null),
            (Client: (string?)"client_clinic_demo", Type: (string?)"callback [redacted:phone]", Session: (string?)"[redacted:email]", EventId: JsonValueKind.Null),
        });

        // The audit record says which rules redacted what, and carries the hashed IP.
        using var audit = JsonDocument.Parse(ReadStoredText(auditFiles[0]).Trim());
        audit.RootElement.GetProperty("client_id").GetString().Should().Be("client_clinic_demo");
        audit.RootElement.GetProperty("event_count").GetInt32().Should().Be(2);
        audit.RootElement.GetProperty("event_types").EnumerateObject().Select(p => (p.Name, p.Value.GetInt32())).Should().BeEquivalentTo(
            [("form_submit", 1), ("callback [redacted:phone]", 1)]);
        audit.RootElement.GetProperty("ip_hash").GetString().Should().Be(HipaaVisitorHash);
        audit.RootElement.GetProperty("redactions").EnumerateArray().Select(r => r.GetString()).Should().BeEquivalentTo(
            "form_value:event_data.formData.email", "form_value:event_data.formData.symptoms", "email:custom_data.page.referrer",
            "phone:eventType", "email:sessionId", "iban:eventId");
    }

    private static string GdprBody => """
        {"eventType":"batch","sessionId":"sess_e2e","sentAt":"2026-11-26T12:00:00Z","consent":"granted","events":[
          {"eventType":"pageview","eventId":"e2e-1","timestamp":"2026-11-26T11:59:58Z",
           "page_data":{"url":"https://shop.acme.com/checkout?email=jane.doe%40example.com&utm_source=newsletter","title":"Checkout",
                        "referrer":"https://mail.example.net/read?to=jane.doe@example.com"}},
          {"eventType":"form_submit","eventId":"e2e-2","event_data":{"formId":"contact-form","formAction":"https://shop.acme.com/contact",
           "formData":{"name":"Jane Q. Public","email":"jane.doe@example.com","phone":"+1 555 867 5309","card":"4111 1111 1111 1111",
                       "message":"Please call me back at 555 867 5309","newsletter":true}}},
          {"eventType":"purchase","eventId":"e2e-3","event_data":{"order_id":"ORD-12345","value":299.99,"currency":"USD","product_id":"SKU-88412",
           "note":"Card 4012888888881881 charged on 2025-03-14; receipt sent to jane.doe@example.com, SSN 078-05-1120, IBAN DE89 3704 0044 0532 0130 00",
           "request_id":"550e8400-e29b-41d4-a716-446655440000","client_version":"v2.14.0","client_time":1732622400000,"password":"hunter2-secret"}},
          {"eventType":"click","eventId":"e2e-4","customer_email":"jane.doe@example.com","api_key":"sk_live_51HxYz","event_data":{"text":"Checkout"}},
          {"eventType":"callback_request +44 20 7946 0958","eventId":"5555 5555 5555 4444","sessionId":"sam.jones@example.org","event_data":{"slot":"morning"}}
        ]}
        """;

    private static string HipaaBody => """
        {"eventType":"batch","events":[
          {"eventType":"form_submit","consent":{"analytics":true},"page":{"referrer":"https://portal.example/?u=pat.smith@clinic-mail.org"},
           "event_data":{"formId":"intake","formData":{"email":"pat.smith@clinic-mail.org","symptoms":"persistent cough"}}},
          {"eventType":"pageview","page_data":{"url":"https://clinic.example/results"}},
          {"eventType":"callback +1 202 555 0143","eventId":"GB82 WEST 1234 5698 7654 32","sessionId":"lee.wong@clinic-mail.org","consent":"granted"}
        ]}
        """;

    // A raw value as it would look written raw, JSON-escaped or URL-encoded.
    private static IEnumerable<string> Forms(string raw) =>
        new[] { raw, JsonEncodedText.Encode(raw, JavaScriptEncoder.Default).ToString(), Uri.EscapeDataString(raw), raw.Replace(" ", "+", StringComparison.Ordinal) }
            .Distinct(StringComparer.Ordinal);

    private static string ReadStoredText(string path)
    {
        var bytes = File.ReadAllBytes(path);
        if (path.EndsWith(".gz", StringComparison.Ordinal))
        {
            using var gzip = new GZipStream(new MemoryStream(bytes), CompressionMode.Decompress);
            using var reader = new StreamReader(gzip, Encoding.UTF8);
            return reader.ReadToEnd();
        }

        return Encoding.UTF8.GetString(bytes);
    }

    private static MeterListener ListenToMetricTags(IMeterFactory factory, ConcurrentQueue<string> tags)
    {
        var listener = new MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Meter.Scope == factory)
                {
                    l.EnableMeasurementEvents(instrument);
                }
            },
        };
        listener.SetMeasurementEventCallback<long>((_, _, t, _) => Record(t, tags));
        listener.SetMeasurementEventCallback<int>((_, _, t, _) => Record(t, tags));
        listener.SetMeasurementEventCallback<double>((_, _, t, _) => Record(t, tags));
        listener.Start();
        return listener;

        static void Record(ReadOnlySpan<KeyValuePair<string, object?>> measurementTags, ConcurrentQueue<string> tags)
        {
            foreach (var tag in measurementTags)
            {
                tags.Enqueue($"{tag.Key}={tag.Value}");
            }
        }
    }
}
