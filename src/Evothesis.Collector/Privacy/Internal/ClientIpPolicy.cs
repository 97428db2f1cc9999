using System.Net;
using System.Security.Cryptography;
using System.Text;
using Evothesis.Collector.Authorization;

namespace Evothesis.Collector.Privacy.Internal;

/// <summary>
/// Decides what of a visitor's IP address may be stored for a client: nothing, the address, or its
/// HMAC-SHA256 keyed with the client's salt. Applied when events are created, so no later step ever holds
/// an IP the client's rules forbid.
/// </summary>
internal static class ClientIpPolicy
{
    /// <summary>Computes the stored form of an IP address.</summary>
    /// <param name="client">The client's configuration.</param>
    /// <param name="address">The visitor's address, if known.</param>
    /// <param name="stored">The address, its lower-case hex HMAC, or <see langword="null"/>.</param>
    /// <returns><see langword="false"/> when the client requires hashing but has no salt: nothing may be stored.</returns>
    public static bool TryApply(ClientConfig client, IPAddress? address, out string? stored)
    {
        stored = null;
        if (!client.IpCollection.Enabled || address is null)
        {
            return true;
        }

        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        if (!RequiresHash(client))
        {
            stored = address.ToString();
            return true;
        }

        if (string.IsNullOrEmpty(client.IpCollection.Salt))
        {
            return false;
        }

        stored = Hash(address.ToString(), client.IpCollection.Salt);
        return true;
    }

    /// <summary>Tells whether a client's rules allow its IPs to be stored only as hashes.</summary>
    public static bool RequiresHash(ClientConfig client) =>
        client.IpCollection.HashRequired || client.PrivacyLevel is PrivacyLevel.Gdpr or PrivacyLevel.Hipaa;

    /// <summary>HMAC-SHA256 of the address text, keyed with the salt's UTF-8 bytes, as lower-case hex.</summary>
    public static string Hash(string address, string salt)
    {
        Span<byte> hash = stackalloc byte[HMACSHA256.HashSizeInBytes];
        HMACSHA256.HashData(Encoding.UTF8.GetBytes(salt), Encoding.UTF8.GetBytes(address), hash);
        return Convert.ToHexStringLower(hash);
    }
}
