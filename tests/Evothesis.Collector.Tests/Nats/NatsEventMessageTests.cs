using Evothesis.Collector.Nats.Internal;
using Evothesis.Collector.Tests.Support;

namespace Evothesis.Collector.Tests.Nats;

public sealed class NatsEventMessageTests
{
    [TestCase("acme", "evothesis.events.acme")]
    [TestCase("client_test-2", "evothesis.events.client_test-2")]
    [TestCase("acme.eu", "evothesis.events.acme~2Eeu")]
    [TestCase("a*b>c d", "evothesis.events.a~2Ab~3Ec~20d")]
    [TestCase("a~2Eb", "evothesis.events.a~7E2Eb")]
    [TestCase("é", "evothesis.events.~C3~A9")]
    [TestCase("", "evothesis.events.~")]
    public void Subject_ClientId_IsOneTokenOfSafeCharacters(string clientId, string expected)
    {
        NatsEventMessage.Subject("evothesis.events", clientId).Should().Be(expected);
    }

    [Test]
    public void Subject_ClientsThatDifferOnlyInEscapedCharacters_GetDifferentSubjects()
    {
        string[] clients = ["a.b", "a~2Eb", "a-b", "a_b", "a b", "a*b"];

        clients.Select(c => NatsEventMessage.Subject("p", c)).Should().OnlyHaveUniqueItems();
    }

    [Test]
    public void Decode_EncodedEvent_IsTheSameEvent()
    {
        var e = TestEvents.Create(clientId: "acme", eventId: "e-1", eventData: """{"value":42}""", consent: """{"analytics":true}""");

        var decoded = NatsEventMessage.Decode(NatsEventMessage.Encode(e)).Should().ContainSingle().Subject;

        decoded.Should().BeEquivalentTo(e, o => o.ComparingByValue<Evothesis.Collector.Events.RawJson>());
        NatsEventMessage.MessageId(decoded).Should().Be(e.Id.ToString("N"));
    }

    [Test]
    public void Decode_OtherVersion_ThrowsFormatException()
    {
        var body = NatsEventMessage.Encode(TestEvents.Create());
        body[0] = 200;

        var decode = () => NatsEventMessage.Decode(body);

        decode.Should().Throw<FormatException>().WithMessage("*version 200*");
    }

    [Test]
    public void Decode_TruncatedBody_ThrowsFormatException()
    {
        var body = NatsEventMessage.Encode(TestEvents.Create());

        var decode = () => NatsEventMessage.Decode(body.AsMemory(0, body.Length / 2));

        decode.Should().Throw<FormatException>();
    }
}
