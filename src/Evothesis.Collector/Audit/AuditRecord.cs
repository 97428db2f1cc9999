namespace Evothesis.Collector.Audit;

/// <summary>
/// What a HIPAA client's accepted request did, without any of its values: when, for whom, how many events
/// of which types, from which (hashed) address, and which privacy rules changed what.
/// </summary>
public sealed class AuditRecord
{
    /// <summary>Gets the record identifier, a UUIDv7.</summary>
    public required Guid Id { get; init; }

    /// <summary>Gets when the request was received, in UTC.</summary>
    public required DateTimeOffset Time { get; init; }

    /// <summary>Gets the client the events were attributed to.</summary>
    public required string ClientId { get; init; }

    /// <summary>Gets the authorized domain the request came from.</summary>
    public required string SiteId { get; init; }

    /// <summary>Gets the host's identifier for the request, if any.</summary>
    public string? RequestId { get; init; }

    /// <summary>Gets the number of events accepted.</summary>
    public required int EventCount { get; init; }

    /// <summary>
    /// Gets the number of accepted events per event type, the types as redacted (a type that held personal
    /// data appears with its marker, such as <c>callback [redacted:phone]</c>).
    /// </summary>
    public required IReadOnlyDictionary<string, int> EventTypes { get; init; }

    /// <summary>Gets the visitor IP as stored (its keyed hash), or <see langword="null"/>.</summary>
    public string? IpHash { get; init; }

    /// <summary>
    /// Gets what the privacy rules changed, as rule and location without values, such as
    /// <c>email:event_data.message</c> or <c>form_value:event_data.fields.phone</c>.
    /// </summary>
    public IReadOnlyList<string> Redactions { get; init; } = [];
}

/// <summary>Stores audit records. Records are never dropped silently: a failed write refuses the request's events.</summary>
public interface IAuditSink
{
    /// <summary>Gets the sink's name, for logs and metric tags.</summary>
    string Name { get; }

    /// <summary>Writes audit records durably.</summary>
    /// <param name="records">The records.</param>
    /// <param name="cancellationToken">Cancels the write.</param>
    /// <returns>A task that completes when the records are stored.</returns>
    ValueTask WriteAsync(IReadOnlyList<AuditRecord> records, CancellationToken cancellationToken);
}
