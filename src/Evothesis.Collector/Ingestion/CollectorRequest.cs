using System.Net;

namespace Evothesis.Collector.Ingestion;

/// <summary>
/// A <c>POST /collect</c> request as the core sees it, independent of the web framework that received it.
/// Host adapters fill it from their request type.
/// </summary>
public sealed class CollectorRequest
{
    /// <summary>Gets the request body. The collector reads it at most once and does not dispose it.</summary>
    public required Stream Body { get; init; }

    /// <summary>Gets the declared body length, if the request declared one.</summary>
    public long? ContentLength { get; init; }

    /// <summary>Gets the <c>Content-Type</c> header.</summary>
    public string? ContentType { get; init; }

    /// <summary>Gets the <c>Content-Encoding</c> header.</summary>
    public string? ContentEncoding { get; init; }

    /// <summary>Gets the <c>Origin</c> header.</summary>
    public string? Origin { get; init; }

    /// <summary>Gets the <c>Referer</c> header.</summary>
    public string? Referer { get; init; }

    /// <summary>Gets the <c>User-Agent</c> header.</summary>
    public string? UserAgent { get; init; }

    /// <summary>
    /// Gets the client's IP address: the connection's peer, or the address trusted forwarded headers name.
    /// </summary>
    public IPAddress? RemoteIpAddress { get; init; }

    /// <summary>Gets a value indicating whether the request carries <c>Sec-GPC: 1</c> (Global Privacy Control).</summary>
    public bool GlobalPrivacyControl { get; init; }

    /// <summary>Gets the host's identifier for the request, for logs and audit records.</summary>
    public string? RequestId { get; init; }
}
