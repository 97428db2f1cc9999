namespace Evothesis.Collector.Ingestion.Internal;

/// <summary>A refusal of a whole request, raised while reading it and answered as an RFC 7807 problem.</summary>
internal sealed class CollectorProblemException(int status, string type, string title, string detail) : Exception(detail)
{
    public int Status { get; } = status;

    public string Type { get; } = type;

    public string Title { get; } = title;

    /// <summary>Gets the metric and log reason, derived from the problem type.</summary>
    public string Reason => Type[(Type.LastIndexOf(':') + 1)..];

    public IReadOnlyList<Rejection>? Rejected { get; init; }
}

/// <summary>An event of a request that was not accepted, and why.</summary>
internal readonly record struct Rejection(int Index, string Reason);

/// <summary>Per-event rejection reasons, as they appear in responses and metrics.</summary>
internal static class RejectionReasons
{
    public const string NotAnObject = "not_an_object";
    public const string MissingEventType = "missing_event_type";
    public const string InvalidEventType = "invalid_event_type";
    public const string NestedBatch = "nested_batch";
    public const string InvalidCharacter = "invalid_character";
    public const string InvalidNumber = "invalid_number";
    public const string SiteMismatch = "site_mismatch";
    public const string InvalidEventId = "invalid_event_id";
    public const string InvalidSessionId = "invalid_session_id";
    public const string InvalidSiteId = "invalid_site_id";
    public const string InvalidPageData = "invalid_page_data";
    public const string InvalidEventData = "invalid_event_data";

    /// <summary>Explains a reason in words, for problem details.</summary>
    public static string Describe(string reason) => reason switch
    {
        NotAnObject => "each event must be a JSON object",
        MissingEventType => "it has no 'eventType'",
        InvalidEventType => "'eventType' must be a non-empty string",
        NestedBatch => "a batch cannot contain a batch",
        InvalidCharacter => "it contains a character that cannot be stored (NUL or an unpaired surrogate)",
        InvalidNumber => "it contains a number that cannot be stored (beyond the range of a double, with an exponent beyond ±400, or longer than 256 characters)",
        SiteMismatch => "its siteId differs from the site the request was authorized for",
        InvalidEventId => "'eventId' must be a string or a number of at most MaxIdentifierLength characters",
        InvalidSessionId => "'sessionId' must be a string or a number of at most MaxIdentifierLength characters",
        InvalidSiteId => "'siteId' must be a string",
        InvalidPageData => "'page_data' must be an object",
        InvalidEventData => "'event_data' must be an object",
        _ => reason,
    };
}
