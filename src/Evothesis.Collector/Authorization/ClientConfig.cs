namespace Evothesis.Collector.Authorization;

/// <summary>
/// A client's configuration as pixel-management returns it for an authorized domain
/// (<c>GET /api/v1/config/domain/{domain}</c>) or a client id (<c>GET /api/v1/config/client/{client_id}</c>):
/// who owns the events and which privacy rules apply.
/// </summary>
public sealed class ClientConfig
{
    /// <summary>Gets the client the domain belongs to; every event from the domain is attributed to it.</summary>
    public required string ClientId { get; init; }

    /// <summary>Gets the client's privacy level. The default is <see cref="PrivacyLevel.Standard"/>.</summary>
    public PrivacyLevel PrivacyLevel { get; init; } = PrivacyLevel.Standard;

    /// <summary>Gets how the client IP may be stored.</summary>
    public IpCollectionSettings IpCollection { get; init; } = new();

    /// <summary>Gets the client's consent requirements.</summary>
    public ConsentSettings Consent { get; init; } = new();

    /// <summary>Gets the client's dedicated bucket for object storage, if it has one.</summary>
    public string? S3Bucket { get; init; }

    /// <summary>Returns the client identifier and privacy level; never the salt.</summary>
    /// <returns>A description safe to log.</returns>
    public override string ToString() => $"{ClientId} ({PrivacyLevel})";
}

/// <summary>A client's privacy level.</summary>
public enum PrivacyLevel
{
    /// <summary>Events are stored as sent; the IP in full when IP collection is enabled.</summary>
    Standard,

    /// <summary>GDPR: the IP is stored only as a keyed hash, and consent rules apply.</summary>
    Gdpr,

    /// <summary>HIPAA: as <see cref="Gdpr"/>, and every accepted request leaves an audit record.</summary>
    Hipaa,
}

/// <summary>How a client's visitor IP addresses may be stored.</summary>
public sealed class IpCollectionSettings
{
    /// <summary>Gets a value indicating whether the IP may be stored at all. The default is <see langword="true"/>.</summary>
    public bool Enabled { get; init; } = true;

    /// <summary>Gets a value indicating whether the IP must be stored only as a keyed hash. The default is <see langword="false"/>.</summary>
    public bool HashRequired { get; init; }

    /// <summary>Gets the client's secret key for IP hashing (HMAC-SHA256). Never logged.</summary>
    public string? Salt { get; init; }

    /// <summary>Describes the settings without the salt.</summary>
    /// <returns>A description safe to log.</returns>
    public override string ToString() =>
        $"Enabled = {Enabled}, HashRequired = {HashRequired}, Salt = {(Salt is null ? "none" : "set")}";
}

/// <summary>A client's consent requirements.</summary>
public sealed class ConsentSettings
{
    /// <summary>Gets a value indicating whether events need the visitor's consent. The default is <see langword="false"/>.</summary>
    public bool Required { get; init; }

    /// <summary>Gets what happens to events that carry no consent decision. The default is <see cref="ConsentDefault.OptIn"/>.</summary>
    public ConsentDefault DefaultBehavior { get; init; } = ConsentDefault.OptIn;
}

/// <summary>What happens to events that carry no consent decision when consent is required.</summary>
public enum ConsentDefault
{
    /// <summary>Events without a decision are kept (<c>opt_in</c>, <c>allow</c>).</summary>
    OptIn,

    /// <summary>Events without a decision are dropped (<c>opt_out</c>, <c>block</c>).</summary>
    OptOut,
}
