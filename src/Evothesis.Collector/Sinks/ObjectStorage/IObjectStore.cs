namespace Evothesis.Collector.Sinks.ObjectStorage;

/// <summary>
/// A place that stores whole objects under keys: an S3 bucket, a local folder. The object-storage sink
/// writes through it, so the layout and encoding are the same wherever the objects land.
/// </summary>
public interface IObjectStore
{
    /// <summary>Gets a name for logs and metric tags, such as <c>local:/var/data</c> or <c>s3:bucket</c>.</summary>
    string Name { get; }

    /// <summary>
    /// Stores an object, replacing any object with the same key. When the returned task completes the object
    /// is durable and complete; a failed put leaves no partial object under the key.
    /// </summary>
    /// <param name="request">The object.</param>
    /// <param name="cancellationToken">Cancels the put.</param>
    /// <returns>A task that completes when the object is stored.</returns>
    ValueTask PutAsync(ObjectPutRequest request, CancellationToken cancellationToken);
}

/// <summary>An object to store.</summary>
public sealed class ObjectPutRequest
{
    /// <summary>Gets the key, a <c>/</c>-separated relative path.</summary>
    public required string Key { get; init; }

    /// <summary>Gets the content, positioned at its start. The store reads it once and does not dispose it.</summary>
    public required Stream Content { get; init; }

    /// <summary>Gets the content length in bytes.</summary>
    public required long Length { get; init; }

    /// <summary>Gets the media type, such as <c>application/x-ndjson</c>.</summary>
    public required string ContentType { get; init; }

    /// <summary>Gets the content encoding, such as <c>gzip</c>, if any.</summary>
    public string? ContentEncoding { get; init; }

    /// <summary>Gets user metadata to store with the object.</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; init; } = new Dictionary<string, string>();
}
