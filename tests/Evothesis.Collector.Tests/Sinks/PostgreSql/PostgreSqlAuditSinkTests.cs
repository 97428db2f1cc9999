using Evothesis.Collector.Audit;
using Evothesis.Collector.Audit.Internal;
using Evothesis.Collector.Sinks.PostgreSql;
using Evothesis.Collector.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace Evothesis.Collector.Tests.Sinks.PostgreSql;

public sealed class PostgreSqlAuditSinkTests
{
    private PostgreSqlTestHost _host = null!;

    [SetUp]
    public async Task SetUp() => _host = await PostgreSqlTestHost.CreateAsync();

    [TearDown]
    public async Task TearDown() => await _host.DisposeAsync();

    private IAuditSink Sink => _host.Services.GetRequiredService<AuditTrail>().Sinks.Single();

    [Test]
    public void AddPostgreSqlSink_AuditRecords_GoToTheAuditTableInsteadOfTheDefaultFiles()
    {
        // What the batcher writes to, not merely what one resolution of IAuditSink returns.
        var trail = _host.Services.GetRequiredService<AuditTrail>();

        trail.Sinks.Should().ContainSingle().Which.Should().BeOfType<PostgreSqlAuditSink>();
    }

    [TestCase(true, TestName = "AddPostgreSqlSink_HostAuditSinkAddedBefore_ReplacesTheAuditTable")]
    [TestCase(false, TestName = "AddPostgreSqlSink_HostAuditSinkAddedAfter_ReplacesTheAuditTable")]
    public async Task AddPostgreSqlSink_HostAuditSink_ReplacesTheAuditTableWhateverTheCallOrder(bool hostSinkFirst)
    {
        var own = new RecordingAuditSink();
        var services = new ServiceCollection();
        services.AddLogging();
        var collector = services.AddEvothesisCollector();
        if (hostSinkFirst)
        {
            collector.AddAuditSink(own).AddPostgreSqlSink(_host.ConnectionString);
        }
        else
        {
            collector.AddPostgreSqlSink(_host.ConnectionString).AddAuditSink(own);
        }

        await using var provider = services.BuildServiceProvider();

        provider.GetRequiredService<AuditTrail>().Sinks.Should().Equal(own);
    }

    [Test]
    public async Task WriteAsync_Records_StoresEveryColumn()
    {
        var time = TestEvents.Microseconds(DateTimeOffset.UtcNow);
        var full = new AuditRecord
        {
            Id = Guid.CreateVersion7(),
            Time = time,
            ClientId = "client_clinic",
            SiteId = "clinic.example",
            RequestId = "req-1",
            EventCount = 3,
            EventTypes = new Dictionary<string, int> { ["pageview"] = 2, ["form_submit"] = 1 },
            IpHash = "ab12",
            Redactions = ["email:event_data.message", "form_value:event_data.fields.phone"],
        };
        var sparse = new AuditRecord
        {
            Id = Guid.CreateVersion7(),
            Time = time,
            ClientId = "client_clinic",
            SiteId = "clinic.example",
            EventCount = 1,
            EventTypes = new Dictionary<string, int> { ["pageview"] = 1 },
        };

        await Sink.WriteAsync([full, sparse], CancellationToken.None);

        var rows = await _host.QueryAsync<string>(
            "SELECT concat_ws('|', id, to_char(received_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US'), client_id, site_id, " +
            "coalesce(request_id, '-'), event_count, event_types::text, coalesce(ip_hash, '-'), array_to_string(redactions, ',')) " +
            "FROM audit_log ORDER BY id");
        var expectedTime = time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff");
        rows.Should().BeEquivalentTo(
            $"{full.Id}|{expectedTime}|client_clinic|clinic.example|req-1|3|{{\"pageview\": 2, \"form_submit\": 1}}|ab12|email:event_data.message,form_value:event_data.fields.phone",
            $"{sparse.Id}|{expectedTime}|client_clinic|clinic.example|-|1|{{\"pageview\": 1}}|-|");
    }

    [Test]
    public async Task WriteAsync_SameRecordAgain_StoresItOnce()
    {
        var record = new AuditRecord
        {
            Id = Guid.CreateVersion7(),
            Time = DateTimeOffset.UtcNow,
            ClientId = "client_clinic",
            SiteId = "clinic.example",
            EventCount = 1,
            EventTypes = new Dictionary<string, int> { ["pageview"] = 1 },
        };

        await Sink.WriteAsync([record], CancellationToken.None);
        await Sink.WriteAsync([record], CancellationToken.None);

        (await _host.CountAsync("audit_log")).Should().Be(1);
    }

    [Test]
    public async Task WriteAsync_OneRecordRefused_StoresNoneAndThrows()
    {
        var good = new AuditRecord
        {
            Id = Guid.CreateVersion7(), Time = DateTimeOffset.UtcNow, ClientId = "c", SiteId = "s", EventCount = 1,
            EventTypes = new Dictionary<string, int> { ["pageview"] = 1 },
        };
        var bad = new AuditRecord
        {
            Id = Guid.CreateVersion7(), Time = DateTimeOffset.UtcNow, ClientId = "c\0", SiteId = "s", EventCount = 1,
            EventTypes = new Dictionary<string, int> { ["pageview"] = 1 },
        };

        var write = async () => await Sink.WriteAsync([good, bad], CancellationToken.None);

        // An audit record is never dropped silently: the caller refuses the request's events instead.
        await write.Should().ThrowAsync<Exception>();
        (await _host.CountAsync("audit_log")).Should().Be(0);
    }

    private sealed class RecordingAuditSink : IAuditSink
    {
        public string Name => "recording";

        public ValueTask WriteAsync(IReadOnlyList<AuditRecord> records, CancellationToken cancellationToken) => ValueTask.CompletedTask;
    }
}
