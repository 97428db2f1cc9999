using System.Text;
using Evothesis.Collector.Events;
using Evothesis.Collector.Spool.Internal;

namespace Evothesis.Collector.Nats.Internal;

/// <summary>
/// One event as one JetStream message: its subject names the client, its id is the event's server-assigned
/// <see cref="CollectedEvent.Id"/>, its body is the event in the spool's record encoding.
/// </summary>
/// <remarks>
/// The body is what the collector's own spool stores for a request (<see cref="SpoolEventCodec"/>, first byte its
/// version) holding this one event and no audit record: the same ids, times, strings and JSON bytes, the client's
/// dedicated bucket included, so the loader hands its sinks exactly the event the collector accepted. The message id
/// (<c>Nats-Msg-Id</c>) is the event's <see cref="CollectedEvent.Id"/>, which the spool keeps across redeliveries: the
/// stream's duplicate window drops the same event published again, and PostgreSQL's row key is the same id.
/// </remarks>
internal static class NatsEventMessage
{
    /// <summary>The body of <paramref name="e"/>'s message.</summary>
    public static byte[] Encode(CollectedEvent e) => SpoolEventCodec.Encode([e], audit: null);

    /// <summary>The message id of <paramref name="e"/>'s message (32 hex digits).</summary>
    public static string MessageId(CollectedEvent e) => e.Id.ToString("N");

    /// <summary>The events of a message's body.</summary>
    /// <exception cref="FormatException">The body is not an event in a version this collector reads.</exception>
    public static IReadOnlyList<CollectedEvent> Decode(ReadOnlyMemory<byte> body)
    {
        if (body.IsEmpty || body.Span[0] != SpoolEventCodec.Version)
        {
            throw new FormatException(body.IsEmpty
                ? "The message is empty."
                : $"The message's encoding version {body.Span[0]} is not {SpoolEventCodec.Version}.");
        }

        try
        {
            return SpoolEventCodec.Decode(body).Events;
        }
        catch (Exception ex) when (ex is not FormatException and not OutOfMemoryException)
        {
            throw new FormatException("The message is not a well-formed event.", ex);
        }
    }

    /// <summary>
    /// The subject of a client's events: <c>{prefix}.{client}</c>, with the characters a subject token cannot hold
    /// (<c>.</c>, <c>*</c>, <c>&gt;</c>, white space, anything but ASCII letters, digits, <c>_</c> and <c>-</c>) written
    /// as <c>~XX</c> (their UTF-8 bytes in hex), so that every client is one token and two clients never share one.
    /// </summary>
    public static string Subject(string prefix, string clientId)
    {
        var subject = new StringBuilder(prefix.Length + 1 + clientId.Length).Append(prefix).Append('.');
        if (clientId.Length == 0)
        {
            return subject.Append('~').ToString();
        }

        Span<byte> utf8 = stackalloc byte[4];
        foreach (var rune in clientId.EnumerateRunes())
        {
            if (rune.IsAscii && (char.IsAsciiLetterOrDigit((char)rune.Value) || rune.Value is '_' or '-'))
            {
                subject.Append((char)rune.Value);
                continue;
            }

            var length = rune.EncodeToUtf8(utf8);
            foreach (var b in utf8[..length])
            {
                subject.Append('~').Append(b.ToString("X2", System.Globalization.CultureInfo.InvariantCulture));
            }
        }

        return subject.ToString();
    }
}
