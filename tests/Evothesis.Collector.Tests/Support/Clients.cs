using Evothesis.Collector.Authorization;

namespace Evothesis.Collector.Tests.Support;

/// <summary>Client configurations for tests, one per privacy level.</summary>
public static class Clients
{
    public const string StandardDomain = "standard.example";
    public const string GdprDomain = "gdpr.example";
    public const string HipaaDomain = "clinic.example";
    public const string GdprSalt = "gdpr-salt-5f1c";
    public const string HipaaSalt = "hipaa-salt-9a2e";

    public static ClientConfig Standard(bool consentRequired = false, ConsentDefault consentDefault = ConsentDefault.OptIn) => new()
    {
        ClientId = "client_standard",
        PrivacyLevel = PrivacyLevel.Standard,
        Consent = new ConsentSettings { Required = consentRequired, DefaultBehavior = consentDefault },
    };

    public static ClientConfig Gdpr(bool consentRequired = false, ConsentDefault consentDefault = ConsentDefault.OptIn, string? salt = GdprSalt) => new()
    {
        ClientId = "client_gdpr",
        PrivacyLevel = PrivacyLevel.Gdpr,
        IpCollection = new IpCollectionSettings { Enabled = true, HashRequired = true, Salt = salt },
        Consent = new ConsentSettings { Required = consentRequired, DefaultBehavior = consentDefault },
    };

    public static ClientConfig Hipaa() => new()
    {
        ClientId = "client_hipaa",
        PrivacyLevel = PrivacyLevel.Hipaa,
        IpCollection = new IpCollectionSettings { Enabled = true, HashRequired = true, Salt = HipaaSalt },
        Consent = new ConsentSettings { Required = true, DefaultBehavior = ConsentDefault.OptIn },
    };

    public static Dictionary<string, ClientConfig> All() => new()
    {
        [StandardDomain] = Standard(),
        [GdprDomain] = Gdpr(),
        [HipaaDomain] = Hipaa(),
    };

    public static string Origin(string domain) => "https://" + domain;
}
