using Evothesis.Collector.Authorization;
using Evothesis.Collector.Batching;
using Microsoft.Extensions.DependencyInjection;
using Evothesis.Collector.Privacy;
using Evothesis.Collector.Tests.Support;
using Microsoft.Extensions.Logging;

namespace Evothesis.Collector.Tests.Ingestion;

public sealed class CollectorPipelinePrivacyTests
{
    private const string VisitorIp = "203.0.113.7";

    // Known answers for VisitorIp, computed outside .NET: printf '%s' 203.0.113.7 | openssl dgst -sha256 -hmac SALT
    private const string VisitorIpGdprHash = "e61b567764439004178900959896f37ab16a56b2d8a5bc58d1db101551b68c7a";
    private const string VisitorIpHipaaHash = "9aaa042e84e4b05b2edd9b7e627e3eac0abafc8574e097976711483292432a9c";
    private const string VisitorIpHashWithSaltS = "e7c34b2dc22eca6887b1a0d9e17434407669110e211f33a03d7297a85b40dbff";

    [Test]
    public async Task ProcessAsync_GdprClient_StoresOnlyTheHmacOfTheIp()
    {
        await using var harness = new CollectorHarness(Clients.All());

        var result = await harness.PostAsync("""{"eventType":"pageview"}""", Clients.Origin(Clients.GdprDomain), VisitorIp);

        result.StatusCode.Should().Be(202);
        harness.Sink.Events.Should().ContainSingle().Which.Ip.Should().Be(VisitorIpGdprHash);
    }

    [Test]
    public async Task ProcessAsync_Ipv4MappedAddress_IsHashedAsIpv4()
    {
        await using var harness = new CollectorHarness(Clients.All());

        await harness.PostAsync("""{"eventType":"pageview"}""", Clients.Origin(Clients.GdprDomain), "::ffff:" + VisitorIp);

        harness.Sink.Events.Should().ContainSingle().Which.Ip.Should().Be(VisitorIpGdprHash);
    }

    [Test]
    public async Task ProcessAsync_StandardClient_StoresTheAddress()
    {
        await using var harness = new CollectorHarness(Clients.All());

        await harness.PostAsync("""{"eventType":"pageview"}""", Clients.Origin(Clients.StandardDomain), VisitorIp);

        harness.Sink.Events.Should().ContainSingle().Which.Ip.Should().Be(VisitorIp);
    }

    [Test]
    public async Task ProcessAsync_StandardClientWithHashRequired_StoresTheHmac()
    {
        var clients = new Dictionary<string, ClientConfig>
        {
            ["hashed.example"] = new()
            {
                ClientId = "client_hashed",
                IpCollection = new IpCollectionSettings { HashRequired = true, Salt = "s" },
            },
        };
        await using var harness = new CollectorHarness(clients);

        await harness.PostAsync("""{"eventType":"pageview"}""", "https://hashed.example", VisitorIp);

        harness.Sink.Events.Should().ContainSingle().Which.Ip.Should().Be(VisitorIpHashWithSaltS);
    }

    [Test]
    public async Task ProcessAsync_IpCollectionDisabled_StoresNoIp()
    {
        var clients = new Dictionary<string, ClientConfig>
        {
            ["noip.example"] = new() { ClientId = "client_noip", IpCollection = new IpCollectionSettings { Enabled = false } },
        };
        await using var harness = new CollectorHarness(clients);

        await harness.PostAsync("""{"eventType":"pageview"}""", "https://noip.example", VisitorIp);

        harness.Sink.Events.Should().ContainSingle().Which.Ip.Should().BeNull();
    }

    [Test]
    public async Task ProcessAsync_HashRequiredWithoutSalt_RefusesWithLoggedConfigurationError()
    {
        var clients = new Dictionary<string, ClientConfig> { [Clients.GdprDomain] = Clients.Gdpr(salt: null) };
        await using var harness = new CollectorHarness(clients);
        using var rejected = harness.Collect("evothesis.collector.events.rejected");

        var result = await harness.PostAsync("""{"eventType":"batch","events":[{"eventType":"a"},{"eventType":"b"}]}""", Clients.Origin(Clients.GdprDomain), VisitorIp);

        result.StatusCode.Should().Be(503);
        result.Body.GetProperty("type").GetString().Should().Be("urn:evothesis:collector:client-misconfigured");
        harness.Sink.Events.Should().BeEmpty();
        rejected.GetMeasurementSnapshot().Should().ContainSingle()
            .Which.Should().Match<Microsoft.Extensions.Diagnostics.Metrics.Testing.CollectedMeasurement<long>>(m => m.Value == 2 && (string)m.Tags["reason"]! == "client_misconfigured");
        var error = harness.Logs.GetSnapshot().Should().ContainSingle(r => r.Level == LogLevel.Error).Subject;
        error.Id.Id.Should().Be(1003);
        error.Message.Should().Contain("client_gdpr").And.NotContain(VisitorIp);
    }

    [Test]
    public async Task ProcessAsync_ConsentDenied_AnswersAcceptedListingTheDropAndCountsIt()
    {
        await using var harness = new CollectorHarness(Clients.All());
        using var rejected = harness.Collect("evothesis.collector.events.rejected");
        using var consentDrops = harness.Collect("evothesis.collector.privacy.consent_drops");

        var result = await harness.PostAsync(
            """{"eventType":"batch","events":[{"eventType":"a"},{"eventType":"b","consent":"denied"},{"eventType":"c","consent":{"analytics":true}}]}""",
            Clients.Origin(Clients.StandardDomain));

        result.StatusCode.Should().Be(202);
        result.Accepted.Should().Be(2);
        result.Rejected.Should().Equal((1, "consent"));
        harness.Sink.Events.Select(e => e.EventType).Should().Equal("a", "c");
        rejected.GetMeasurementSnapshot().Should().ContainSingle(m => (string)m.Tags["reason"]! == "consent").Which.Value.Should().Be(1);
        consentDrops.GetMeasurementSnapshot().Should().ContainSingle().Which.Tags["cause"].Should().Be("denied");
    }

    [Test]
    public async Task ProcessAsync_OptOutClientWithoutGrant_DropsUndecidedEvents()
    {
        var clients = new Dictionary<string, ClientConfig> { [Clients.GdprDomain] = Clients.Gdpr(consentRequired: true, consentDefault: ConsentDefault.OptOut) };
        await using var harness = new CollectorHarness(clients);

        var result = await harness.PostAsync(
            """{"eventType":"batch","consent":"granted","events":[{"eventType":"a"},{"eventType":"b","consent":"unknown"}]}""",
            Clients.Origin(Clients.GdprDomain));

        result.StatusCode.Should().Be(202);
        result.Accepted.Should().Be(1, "the envelope's grant covers members without their own consent");
        result.Rejected.Should().Equal((1, "consent"));
    }

    [Test]
    public async Task ProcessAsync_GlobalPrivacyControlForGdprClient_DropsEverythingWith202()
    {
        await using var harness = new CollectorHarness(Clients.All());

        var result = await harness.PostAsync("""{"eventType":"pageview","consent":"granted"}""", Clients.Origin(Clients.GdprDomain), gpc: true);

        result.StatusCode.Should().Be(202, "a policy drop must not make the sender retry");
        result.Accepted.Should().Be(0);
        result.Rejected.Should().Equal((0, "consent"));
        harness.Sink.Events.Should().BeEmpty();
    }

    [Test]
    public async Task ProcessAsync_PersonalDataInPayload_StoresItRedactedAndCountsByRule()
    {
        await using var harness = new CollectorHarness(Clients.All());
        using var redactions = harness.Collect("evothesis.collector.privacy.redactions");

        await harness.PostAsync(
            """{"eventType":"purchase","event_data":{"order_id":"ORD-12345","value":299.99,"note":"call 555-123-4567"},"page_data":{"url":"https://standard.example/thanks?email=jane%40example.com"}}""",
            Clients.Origin(Clients.StandardDomain));

        var stored = harness.Sink.Events.Should().ContainSingle().Subject;
        stored.EventData.ToString().Should().Be("""{"order_id":"ORD-12345","value":299.99,"note":"call [redacted:phone]"}""");
        stored.PageData.ToString().Should().Be("""{"url":"https://standard.example/thanks?email=[redacted:email]"}""");
        redactions.GetMeasurementSnapshot().Select(m => ((string)m.Tags["rule"]!, m.Value)).Should().BeEquivalentTo([("email", 1L), ("phone", 1L)]);
    }

    [Test]
    public async Task ProcessAsync_RedactStandardClientsOff_KeepsStandardPayloadsButRedactsGdpr()
    {
        await using var harness = new CollectorHarness(Clients.All(), options => options.Privacy.RedactStandardClients = false);
        const string Body = """{"eventType":"signup","event_data":{"note":"jane@example.com"}}""";

        await harness.PostAsync(Body, Clients.Origin(Clients.StandardDomain));
        await harness.PostAsync(Body, Clients.Origin(Clients.GdprDomain));

        harness.Sink.Events.Select(e => e.EventData.ToString()).Should().Equal(
            """{"note":"jane@example.com"}""",
            """{"note":"[redacted:email]"}""");
    }

    [Test]
    public async Task ProcessAsync_HostProcessor_RunsAfterConsentAndRedaction()
    {
        var seen = new List<string>();
        await using var harness = new CollectorHarness(Clients.All(), build: b => b.AddEventProcessor(new RecordingProcessor(seen)));

        await harness.PostAsync(
            """{"eventType":"batch","events":[{"eventType":"a","consent":"denied"},{"eventType":"b","event_data":{"note":"jane@example.com"}}]}""",
            Clients.Origin(Clients.StandardDomain));

        seen.Should().Equal("""b {"note":"[redacted:email]"}""");
    }

    [Test]
    public async Task ProcessAsync_HipaaClient_WritesAuditRecordBeforeTheEvents()
    {
        await using var harness = new CollectorHarness(Clients.All());
        var auditWritten = false;
        var eventsWrittenAfterAudit = false;
        harness.Audit.OnWrite = () => auditWritten = true;
        harness.Sink.OnWrite = () => eventsWrittenAfterAudit = auditWritten;

        var result = await harness.PostAsync(
            """
            {"eventType":"batch","events":[
              {"eventType":"pageview","page_data":{"url":"https://clinic.example/book?phone=555-123-4567"}},
              {"eventType":"form_submit","event_data":{"formId":"intake","formData":{"email":"pat@example.com","symptoms":"cough"}}},
              {"eventType":"pageview","consent":"denied"}]}
            """,
            Clients.Origin(Clients.HipaaDomain), VisitorIp, requestId: "req-42");

        result.StatusCode.Should().Be(202);
        eventsWrittenAfterAudit.Should().BeTrue();
        var record = harness.Audit.Records.Should().ContainSingle().Subject;
        record.ClientId.Should().Be("client_hipaa");
        record.SiteId.Should().Be(Clients.HipaaDomain);
        record.RequestId.Should().Be("req-42");
        record.EventCount.Should().Be(2);
        record.EventTypes.Should().BeEquivalentTo(new Dictionary<string, int> { ["pageview"] = 1, ["form_submit"] = 1 });
        record.IpHash.Should().Be(VisitorIpHipaaHash);
        record.Redactions.Should().Equal(
            "phone:page_data.url",
            "form_value:event_data.formData.email",
            "form_value:event_data.formData.symptoms");
        var text = string.Join("|", record.Redactions) + record.IpHash;
        text.Should().NotContain("555-123").And.NotContain("pat@").And.NotContain("cough").And.NotContain(VisitorIp);
    }

    [Test]
    public async Task ProcessAsync_HipaaPersonalDataInIdentifiers_StoresAndAuditsOnlyRedactedValues()
    {
        await using var harness = new CollectorHarness(Clients.All());

        var result = await harness.PostAsync(
            """
            {"eventType":"batch","sessionId":"pat@example.com","events":[
              {"eventType":"callback +1 202 555 0143","eventId":"078-05-1120"},
              {"eventType":"callback +1 202 555 0143","eventId":"e-2"},
              {"eventType":"pageview","eventId":"e-3","sessionId":"sess_8f2a"}]}
            """,
            Clients.Origin(Clients.HipaaDomain), VisitorIp);

        result.StatusCode.Should().Be(202);
        harness.Sink.Events.Select(e => (e.EventType, e.EventId, e.SessionId)).Should().Equal(
            ("callback [redacted:phone]", null, "[redacted:email]"),
            ("callback [redacted:phone]", "e-2", "[redacted:email]"),
            ("pageview", "e-3", "sess_8f2a"));
        var record = harness.Audit.Records.Should().ContainSingle().Subject;
        record.EventTypes.Should().BeEquivalentTo(new Dictionary<string, int> { ["callback [redacted:phone]"] = 2, ["pageview"] = 1 });
        record.Redactions.Should().Equal("phone:eventType", "email:sessionId", "ssn:eventId");
    }

    [Test]
    public async Task ProcessAsync_HostProcessorSetsPersonalEventType_AuditRecordStillHoldsNoValue()
    {
        await using var harness = new CollectorHarness(Clients.All(), build: b => b.AddEventProcessor(new RetypingProcessor("lead jane@example.com")));

        await harness.PostAsync("""{"eventType":"batch","events":[{"eventType":"a"},{"eventType":"b"}]}""", Clients.Origin(Clients.HipaaDomain));

        var record = harness.Audit.Records.Should().ContainSingle().Subject;
        record.EventTypes.Should().BeEquivalentTo(new Dictionary<string, int> { ["lead [redacted:email]"] = 2 });
        record.Redactions.Should().BeEmpty("the collector redacted nothing: the host's processor chose the stored type");
    }

    [Test]
    public async Task ProcessAsync_NonHipaaClient_WritesNoAuditRecord()
    {
        await using var harness = new CollectorHarness(Clients.All());

        await harness.PostAsync("""{"eventType":"pageview"}""", Clients.Origin(Clients.GdprDomain));

        harness.Audit.Writes.Should().BeEmpty();
    }

    [Test]
    public async Task ProcessAsync_HipaaAuditSinkFails_IsAcknowledgedFromTheSpoolAndNoEventIsStoredBeforeItsRecord()
    {
        await using var harness = new CollectorHarness(Clients.All(), options =>
        {
            options.Batching.AckMode = AckMode.Durable;
            options.Batching.RetryBaseDelay = TimeSpan.FromMilliseconds(5);
            options.Batching.RetryMaxDelay = TimeSpan.FromMilliseconds(20);
        });
        harness.Audit.Fail = true;
        using var auditRecords = harness.Collect("evothesis.collector.audit.records");

        var result = await harness.PostAsync("""{"eventType":"pageview"}""", Clients.Origin(Clients.HipaaDomain));
        var standard = await harness.PostAsync("""{"eventType":"pageview"}""", Clients.Origin(Clients.StandardDomain));

        result.StatusCode.Should().Be(202, "the request and its audit record are durable in the spool");
        standard.StatusCode.Should().Be(202);
        await Eventually.True(() => auditRecords.GetMeasurementSnapshot().Any(m => (string?)m.Tags["outcome"] == "failed"));
        harness.Logs.GetSnapshot().Should().Contain(r => r.Id.Id == 1202 && r.Level == LogLevel.Error);
        harness.Sink.Events.Should().NotContain(e => e.ClientId == "client_hipaa", "no audited event is stored before its audit record");

        harness.Audit.Fail = false;
        await Eventually.True(() => harness.Sink.Events.Any(e => e.ClientId == "client_hipaa"));
        harness.Audit.Records.Should().ContainSingle().Which.ClientId.Should().Be("client_hipaa");
    }

    [Test]
    public async Task ProcessAsync_HipaaInEnqueuedMode_IsAcknowledgedOnceDurableAndStoredOnlyAfterItsAuditRecord()
    {
        await using var harness = new CollectorHarness(Clients.All(), options => options.Batching.AckMode = AckMode.Enqueued);
        harness.Audit.Fail = true;

        var hipaa = await harness.PostAsync("""{"eventType":"pageview"}""", Clients.Origin(Clients.HipaaDomain));

        hipaa.StatusCode.Should().Be(202);
        harness.Audit.Writes.Should().BeEmpty();
        harness.Sink.Events.Should().BeEmpty("the audit trail has not taken the record yet");
    }


    [Test]
    public async Task ProcessAsync_StandardInEnqueuedMode_IsAcknowledgedAtOnce()
    {
        await using var harness = new CollectorHarness(Clients.All(), options => options.Batching.AckMode = AckMode.Enqueued);
        harness.Sink.Fail = true;

        var standard = await harness.PostAsync("""{"eventType":"pageview"}""", Clients.Origin(Clients.StandardDomain));

        standard.StatusCode.Should().Be(202);
    }

    private sealed class RecordingProcessor(List<string> seen) : IEventProcessor
    {
        public void Process(EventProcessingContext context)
        {
            foreach (var e in context.Events)
            {
                seen.Add(e.EventType + " " + e.EventData);
            }
        }
    }

    private sealed class RetypingProcessor(string type) : IEventProcessor
    {
        public void Process(EventProcessingContext context)
        {
            foreach (var e in context.Events)
            {
                e.EventType = type;
            }
        }
    }
}
