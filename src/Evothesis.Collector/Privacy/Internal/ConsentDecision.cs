using System.Text.Json;
using Evothesis.Collector.Events;

namespace Evothesis.Collector.Privacy.Internal;

/// <summary>What an event's <c>consent</c> says about analytics.</summary>
internal enum ConsentDecision
{
    /// <summary>No consent, or nothing this collector understands: the client's default behaviour decides.</summary>
    None,
    Granted,
    Denied,
}

/// <summary>
/// Reads the <c>consent</c> an event or its batch carries: <c>"granted"</c> / <c>"denied"</c> (and their common
/// synonyms), <c>true</c> / <c>false</c>, <c>1</c> / <c>0</c>, or an object whose <c>analytics</c> (or Google
/// Consent Mode's <c>analytics_storage</c>, or <c>statistics</c>) holds one of those.
/// </summary>
internal static class ConsentReader
{
    private static readonly string[] Grants = ["granted", "grant", "true", "yes", "accepted", "accept", "allow", "allowed", "opt_in", "opt-in", "optin", "given", "all", "1"];
    private static readonly string[] Denials = ["denied", "deny", "false", "no", "rejected", "reject", "declined", "decline", "opt_out", "opt-out", "optout", "withdrawn", "revoked", "none", "0"];

    public static ConsentDecision Read(RawJson consent)
    {
        if (consent.IsNull)
        {
            return ConsentDecision.None;
        }

        var reader = new Utf8JsonReader(consent.Utf8.Span, RawJson.ReaderOptions);
        return reader.Read() ? ReadValue(ref reader, allowObject: true) : ConsentDecision.None;
    }

    private static ConsentDecision ReadValue(ref Utf8JsonReader reader, bool allowObject)
    {
        switch (reader.TokenType)
        {
            case JsonTokenType.True:
                return ConsentDecision.Granted;
            case JsonTokenType.False:
                return ConsentDecision.Denied;
            case JsonTokenType.Number:
                return reader.ValueSpan.SequenceEqual("1"u8) ? ConsentDecision.Granted
                    : reader.ValueSpan.SequenceEqual("0"u8) ? ConsentDecision.Denied
                    : ConsentDecision.None;
            case JsonTokenType.String:
                return FromText(reader.GetString()!.Trim());
            case JsonTokenType.StartObject when allowObject:
                return ReadObject(ref reader);
            default:
                reader.Skip();
                return ConsentDecision.None;
        }
    }

    // Of several analytics purposes, a denial wins.
    private static ConsentDecision ReadObject(ref Utf8JsonReader reader)
    {
        var decision = ConsentDecision.None;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var name = reader.GetString()!;
            reader.Read();
            if (name.Equals("analytics", StringComparison.OrdinalIgnoreCase)
                || name.Equals("analytics_storage", StringComparison.OrdinalIgnoreCase)
                || name.Equals("analyticsStorage", StringComparison.OrdinalIgnoreCase)
                || name.Equals("statistics", StringComparison.OrdinalIgnoreCase))
            {
                var value = ReadValue(ref reader, allowObject: false);
                if (value == ConsentDecision.Denied || (value == ConsentDecision.Granted && decision == ConsentDecision.None))
                {
                    decision = value;
                }
            }
            else
            {
                reader.Skip();
            }
        }

        return decision;
    }

    private static ConsentDecision FromText(string text)
    {
        foreach (var grant in Grants)
        {
            if (text.Equals(grant, StringComparison.OrdinalIgnoreCase))
            {
                return ConsentDecision.Granted;
            }
        }

        foreach (var denial in Denials)
        {
            if (text.Equals(denial, StringComparison.OrdinalIgnoreCase))
            {
                return ConsentDecision.Denied;
            }
        }

        return ConsentDecision.None;
    }
}
