namespace Evothesis.Collector.Privacy.Internal;

/// <summary>What a redaction removed. The names are the rule names of markers, audit records and metric tags.</summary>
internal enum PiiKind : byte
{
    Email,
    Phone,
    Card,
    Ssn,
    Iban,
    Secret,
    FormValue,
    Credentials,
}

internal static class PiiKinds
{
    public const int Count = 8;

    private static readonly string[] Names = ["email", "phone", "card", "ssn", "iban", "secret", "form_value", "credentials"];

    // The replacement text, without JSON quotes.
    private static readonly byte[][] Markers =
    [
        "[redacted:email]"u8.ToArray(),
        "[redacted:phone]"u8.ToArray(),
        "[redacted:card]"u8.ToArray(),
        "[redacted:ssn]"u8.ToArray(),
        "[redacted:iban]"u8.ToArray(),
        "[redacted:secret]"u8.ToArray(),
        "[redacted:form_value]"u8.ToArray(),
        "[redacted:credentials]"u8.ToArray(),
    ];

    // The replacement as a JSON string literal.
    private static readonly byte[][] JsonMarkers = Markers.Select(m => (byte[])[(byte)'"', .. m, (byte)'"']).ToArray();

    public static string Name(PiiKind kind) => Names[(int)kind];

    public static ReadOnlySpan<byte> Marker(PiiKind kind) => Markers[(int)kind];

    public static ReadOnlySpan<byte> JsonMarker(PiiKind kind) => JsonMarkers[(int)kind];
}
