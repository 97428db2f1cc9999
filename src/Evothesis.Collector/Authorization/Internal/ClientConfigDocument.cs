using System.Diagnostics.CodeAnalysis;
using System.Text.Json.Serialization;

namespace Evothesis.Collector.Authorization.Internal;

/// <summary>
/// The client configuration as pixel-management and the clients file spell it (snake_case). Unknown
/// fields are ignored; what cannot be trusted is refused by <see cref="TryToClientConfig"/>.
/// </summary>
internal sealed class ClientConfigDocument
{
    [JsonPropertyName("client_id")]
    public string? ClientId { get; set; }

    [JsonPropertyName("privacy_level")]
    public string? PrivacyLevel { get; set; }

    [JsonPropertyName("ip_collection")]
    public IpCollectionDocument? IpCollection { get; set; }

    [JsonPropertyName("consent")]
    public ConsentDocument? Consent { get; set; }

    [JsonPropertyName("s3_bucket")]
    public string? S3Bucket { get; set; }

    /// <summary>Converts the document, refusing one whose attribution or privacy rules would be a guess.</summary>
    /// <param name="config">The configuration.</param>
    /// <param name="error">Why the document was refused; never contains the salt.</param>
    public bool TryToClientConfig([NotNullWhen(true)] out ClientConfig? config, [NotNullWhen(false)] out string? error)
    {
        config = null;
        if (string.IsNullOrWhiteSpace(ClientId))
        {
            error = "the configuration has no client_id";
            return false;
        }

        if (!TryParsePrivacyLevel(PrivacyLevel, out var level))
        {
            error = $"privacy_level '{PrivacyLevel}' is not one of standard, gdpr, hipaa";
            return false;
        }

        if (!TryParseConsentDefault(Consent?.DefaultBehavior, out var consentDefault))
        {
            error = $"consent.default_behavior '{Consent?.DefaultBehavior}' is not one of opt_in, opt_out";
            return false;
        }

        error = null;
        config = new ClientConfig
        {
            ClientId = ClientId.Trim(),
            PrivacyLevel = level,
            IpCollection = new IpCollectionSettings
            {
                Enabled = IpCollection?.Enabled ?? true,
                HashRequired = IpCollection?.HashRequired ?? false,
                Salt = string.IsNullOrEmpty(IpCollection?.Salt) ? null : IpCollection.Salt,
            },
            Consent = new ConsentSettings
            {
                Required = Consent?.Required ?? false,
                DefaultBehavior = consentDefault,
            },
            S3Bucket = string.IsNullOrWhiteSpace(S3Bucket) ? null : S3Bucket.Trim(),
        };
        return true;
    }

    private static bool TryParsePrivacyLevel(string? value, out PrivacyLevel level)
    {
        switch (value?.Trim().ToLowerInvariant())
        {
            case null or "" or "standard":
                level = Authorization.PrivacyLevel.Standard;
                return true;
            case "gdpr":
                level = Authorization.PrivacyLevel.Gdpr;
                return true;
            case "hipaa":
                level = Authorization.PrivacyLevel.Hipaa;
                return true;
            default:
                level = default;
                return false;
        }
    }

    // pixel-management has spelled the default both ways: opt_in/opt_out, and allow/block.
    private static bool TryParseConsentDefault(string? value, out ConsentDefault behavior)
    {
        switch (value?.Trim().ToLowerInvariant())
        {
            case null or "" or "opt_in" or "opt-in" or "allow":
                behavior = ConsentDefault.OptIn;
                return true;
            case "opt_out" or "opt-out" or "block" or "deny":
                behavior = ConsentDefault.OptOut;
                return true;
            default:
                behavior = default;
                return false;
        }
    }
}

internal sealed class IpCollectionDocument
{
    [JsonPropertyName("enabled")]
    public bool? Enabled { get; set; }

    [JsonPropertyName("hash_required")]
    public bool? HashRequired { get; set; }

    [JsonPropertyName("salt")]
    public string? Salt { get; set; }
}

internal sealed class ConsentDocument
{
    [JsonPropertyName("required")]
    public bool? Required { get; set; }

    [JsonPropertyName("default_behavior")]
    public string? DefaultBehavior { get; set; }
}

[JsonSourceGenerationOptions(ReadCommentHandling = System.Text.Json.JsonCommentHandling.Skip, AllowTrailingCommas = true)]
[JsonSerializable(typeof(ClientConfigDocument))]
[JsonSerializable(typeof(Dictionary<string, ClientConfigDocument>))]
internal sealed partial class AuthorizationJsonContext : JsonSerializerContext;
