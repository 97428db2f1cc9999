using Evothesis.Collector.Nats;
using Evothesis.Collector.Nats.Internal;
using Evothesis.Collector.Sinks;
using Evothesis.Collector.Tests.Support;
using Microsoft.Extensions.Logging.Abstractions;
using NATS.Client.Core;
using NATS.Client.JetStream;
using NATS.Client.JetStream.Models;

namespace Evothesis.Collector.Tests.Nats;

/// <summary>The JetStream sink against a real <c>nats-server</c> of the fixture's own, one stream per test.</summary>
[TestFixture]
[NonParallelizable]
[CancelAfter(60_000)]
public sealed class NatsJetStreamEventSinkTests
{
    private NatsTestCluster _nats = null!;

    [OneTimeSetUp]
    public async Task StartServer() => _nats = await NatsTestCluster.StartAsync(1, CancellationToken.None);

    [OneTimeTearDown]
    public async Task StopServer() => await _nats.DisposeAsync();

    [Test]
    public async Task WriteAsync_SameBatchTwice_StoresEachEventOnceUnderItsClientsSubject(CancellationToken cancellationToken)
    {
        var options = Options();
        await using var source = Source(options);
        var sink = new NatsJetStreamEventSink(source, NullLogger<NatsJetStreamEventSink>.Instance);
        var batch = TestEvents.Batch(
            TestEvents.Create(clientId: "acme", eventId: "1"),
            TestEvents.Create(clientId: "acme", eventId: "2"),
            TestEvents.Create(clientId: "other.eu", eventId: "3"));

        await sink.WriteAsync(batch, cancellationToken);
        await sink.WriteAsync(batch, cancellationToken);

        var state = await StateAsync(options.StreamName, cancellationToken);
        state.Messages.Should().Be(3, "the second write is dropped by the duplicate window");
        state.Subjects.Should().BeEquivalentTo(new Dictionary<string, ulong>
        {
            [options.SubjectPrefix + ".acme"] = 2,
            [options.SubjectPrefix + ".other~2Eeu"] = 1,
        });
    }

    [Test]
    public async Task WriteAsync_EventLargerThanTheStreamTakes_ThrowsEventsRejectedException_AndStoresTheOthers(CancellationToken cancellationToken)
    {
        var options = Options();
        options.MaxMessageBytes = 1024;
        await using var source = Source(options);
        var sink = new NatsJetStreamEventSink(source, NullLogger<NatsJetStreamEventSink>.Instance);
        var batch = TestEvents.Batch(
            TestEvents.Create(eventId: "small"),
            TestEvents.Create(eventId: "large", eventData: $$"""{"padding":"{{new string('x', 4096)}}"}"""));

        var write = async () => await sink.WriteAsync(batch, cancellationToken);

        (await write.Should().ThrowAsync<EventsRejectedException>()).WithMessage("*refused 1 event(s) for good*");
        (await StateAsync(options.StreamName, cancellationToken)).Messages.Should().Be(1);
    }

    [Test]
    public async Task WriteAsync_NoServer_ThrowsAnOutageNotARefusal(CancellationToken cancellationToken)
    {
        var options = Options();
        options.Url = "nats://127.0.0.1:" + LoopbackPort.Free();
        options.RequestTimeout = TimeSpan.FromSeconds(1);
        await using var source = Source(options);
        var sink = new NatsJetStreamEventSink(source, NullLogger<NatsJetStreamEventSink>.Instance);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(10));

        var write = async () => await sink.WriteAsync(TestEvents.Batch(TestEvents.Create()), timeout.Token);

        var thrown = await write.Should().ThrowAsync<Exception>();
        thrown.Which.Should().NotBeOfType<EventsRejectedException>("an unreachable server is retried, never parked");
    }


    // A stream and subjects of the test's own: streams on one server may not share subjects.
    private NatsJetStreamOptions Options()
    {
        var test = Guid.NewGuid().ToString("N")[..12];
        return new NatsJetStreamOptions { Url = _nats.Url, StreamName = "T" + test, SubjectPrefix = "t" + test + ".events" };
    }

    private static NatsConnectionSource Source(NatsJetStreamOptions options) =>
        new(Microsoft.Extensions.Options.Options.Create(options), NullLoggerFactory.Instance);

    private async Task<StreamState> StateAsync(string stream, CancellationToken cancellationToken)
    {
        await using var connection = new NatsConnection(new NatsOpts { Url = _nats.Url });
        var js = new NatsJSContext(connection);
        var info = await js.GetStreamAsync(stream, new StreamInfoRequest { SubjectsFilter = ">" }, cancellationToken);
        return info.Info.State;
    }
}
