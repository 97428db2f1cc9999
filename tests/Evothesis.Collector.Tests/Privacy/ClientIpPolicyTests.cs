using System.Net;
using Evothesis.Collector.Authorization;
using Evothesis.Collector.Privacy.Internal;

namespace Evothesis.Collector.Tests.Privacy;

public class ClientIpPolicyTests
{
    private static readonly IPAddress Visitor = IPAddress.Parse("203.0.113.7");

    [Test]
    public void TryApply_Standard_StoresTheAddress()
    {
        ClientIpPolicy.TryApply(Client(PrivacyLevel.Standard), Visitor, out var stored).Should().BeTrue();

        stored.Should().Be("203.0.113.7");
    }

    [Test]
    public void TryApply_Ipv4MappedIpv6_IsStoredAsIpv4()
    {
        ClientIpPolicy.TryApply(Client(PrivacyLevel.Standard), Visitor.MapToIPv6(), out var stored);

        stored.Should().Be("203.0.113.7");
    }

    [TestCase(PrivacyLevel.Standard)]
    [TestCase(PrivacyLevel.Gdpr)]
    [TestCase(PrivacyLevel.Hipaa)]
    public void TryApply_CollectionDisabled_StoresNothing(PrivacyLevel level)
    {
        ClientIpPolicy.TryApply(Client(level, enabled: false), Visitor, out var stored).Should().BeTrue();

        stored.Should().BeNull();
    }

    [TestCase(PrivacyLevel.Gdpr, false)]
    [TestCase(PrivacyLevel.Hipaa, false)]
    [TestCase(PrivacyLevel.Standard, true)]
    public void TryApply_HashingRequired_StoresTheHmacOfTheAddressKeyedWithTheSalt(PrivacyLevel level, bool hashRequired)
    {
        ClientIpPolicy.TryApply(Client(level, hashRequired: hashRequired, salt: "s3cr3t"), Visitor, out var stored).Should().BeTrue();

        // Known answer, computed outside .NET: printf '%s' 203.0.113.7 | openssl dgst -sha256 -hmac s3cr3t
        stored.Should().Be("fcbcd72da7dab852333ff85ad8c397af384119f5bddb999a887d0bcbf281bb47");
        stored.Should().NotContain("203.0.113.7");
    }

    [Test]
    public void TryApply_HashingRequiredIpv6_HashesTheCompressedAddressText()
    {
        ClientIpPolicy.TryApply(Client(PrivacyLevel.Gdpr, salt: "s3cr3t"), IPAddress.Parse("2001:0db8:0000::0007"), out var stored).Should().BeTrue();

        // Known answer, computed outside .NET: printf '%s' 2001:db8::7 | openssl dgst -sha256 -hmac s3cr3t
        stored.Should().Be("88acefb7c219a26b62062ddadbcbe20138b5a84b5f3b8ce1ebbdd8371ba7f9e0");
    }

    [Test]
    public void TryApply_HashingRequiredWithoutSalt_RefusesToStoreAnything()
    {
        ClientIpPolicy.TryApply(Client(PrivacyLevel.Gdpr, salt: null), Visitor, out var stored).Should().BeFalse();

        stored.Should().BeNull();
    }

    [Test]
    public void TryApply_UnknownAddress_StoresNothing()
    {
        ClientIpPolicy.TryApply(Client(PrivacyLevel.Gdpr, salt: null), null, out var stored).Should().BeTrue();

        stored.Should().BeNull();
    }

    private static ClientConfig Client(PrivacyLevel level, bool enabled = true, bool hashRequired = false, string? salt = "salt") => new()
    {
        ClientId = "c",
        PrivacyLevel = level,
        IpCollection = new IpCollectionSettings { Enabled = enabled, HashRequired = hashRequired, Salt = salt },
    };
}
