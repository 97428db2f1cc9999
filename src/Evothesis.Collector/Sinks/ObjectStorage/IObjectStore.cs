namespace Evothesis.Collector.Sinks.ObjectStorage;

/// <summary>
/// A place that stores whole objects under keys: an S3 bucket, a local folder. The object-storage sink
/// writes through it and the replay reads through it, so the layout and encoding are the same wherever the
/// objects land.
/// </summary>
/// <remarks>
/// Failures of the store are reported as <see cref="ObjectStoreException"/> with an <see cref="ObjectStoreError"/>
/// that tells a missing bucket, refused credentials and a missing object apart (a failure of the caller's
/// content stream propagates as it is); a store never reports success for an object it did not store intact.
/// </remarks>
internal interface IObjectStore
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
    /// <exception cref="ObjectStoreException">The object was not stored.</exception>
    ValueTask PutAsync(ObjectPutRequest request, CancellationToken cancellationToken);

    /// <summary>Lists the objects whose keys start with <paramref name="prefix"/>, at any depth, in ordinal key order.</summary>
    /// <param name="prefix">The key prefix, such as <c>client_id=acme/date=2026-11-26/</c>; empty for every object.</param>
    /// <param name="cancellationToken">Cancels the listing.</param>
    /// <returns>The objects.</returns>
    /// <exception cref="ObjectStoreException">The store cannot be listed.</exception>
    IAsyncEnumerable<ObjectEntry> ListAsync(string prefix, CancellationToken cancellationToken);

    /// <summary>
    /// Lists the "folders" directly below <paramref name="prefix"/>: the distinct key prefixes that end at the
    /// next <c>/</c>, such as <c>client_id=acme/</c>, in ordinal order.
    /// </summary>
    /// <param name="prefix">The key prefix; empty or ending with <c>/</c>.</param>
    /// <param name="cancellationToken">Cancels the listing.</param>
    /// <returns>The prefixes, each ending with <c>/</c>.</returns>
    /// <exception cref="ObjectStoreException">The store cannot be listed.</exception>
    IAsyncEnumerable<string> ListPrefixesAsync(string prefix, CancellationToken cancellationToken);

    /// <summary>Opens an object for reading.</summary>
    /// <param name="key">The key.</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <returns>The object; dispose it to release its content stream.</returns>
    /// <exception cref="ObjectStoreException">
    /// The object does not exist (<see cref="ObjectStoreError.ObjectNotFound"/>) or cannot be read.
    /// </exception>
    ValueTask<StoredObject> GetAsync(string key, CancellationToken cancellationToken);
}

/// <summary>An object to store.</summary>
internal sealed class ObjectPutRequest
{
    /// <summary>Gets the key, a <c>/</c>-separated relative path.</summary>
    public required string Key { get; init; }

    /// <summary>
    /// Gets the content, positioned at its start. The store reads it (more than once when it retries, so it
    /// must be seekable) and does not dispose it.
    /// </summary>
    public required Stream Content { get; init; }

    /// <summary>Gets the content length in bytes.</summary>
    public required long Length { get; init; }

    /// <summary>Gets the media type, such as <c>application/x-ndjson</c>.</summary>
    public required string ContentType { get; init; }

    /// <summary>Gets the content encoding, such as <c>gzip</c>, if any.</summary>
    public string? ContentEncoding { get; init; }

    /// <summary>
    /// Gets user metadata to store with the object (S3 <c>x-amz-meta-*</c>). Keys are lower-case ASCII; stores
    /// without metadata (the local folder) ignore it.
    /// </summary>
    public IReadOnlyDictionary<string, string> Metadata { get; init; } = new Dictionary<string, string>();
}

/// <summary>An object found by <see cref="IObjectStore.ListAsync"/>.</summary>
/// <param name="Key">The key.</param>
/// <param name="Size">The size in bytes.</param>
/// <param name="LastModified">When the object was last written, if the store knows.</param>
internal readonly record struct ObjectEntry(string Key, long Size, DateTimeOffset? LastModified);

/// <summary>An object opened by <see cref="IObjectStore.GetAsync"/>. Disposing it closes <see cref="Content"/>.</summary>
internal sealed class StoredObject : IDisposable, IAsyncDisposable
{
    /// <summary>Initializes a new instance of the <see cref="StoredObject"/> class.</summary>
    /// <param name="key">The key.</param>
    /// <param name="content">The content, owned by the new instance.</param>
    /// <param name="length">The length in bytes, if known.</param>
    /// <param name="contentType">The media type, if known.</param>
    /// <param name="contentEncoding">The content encoding, if known.</param>
    /// <param name="metadata">The user metadata; empty when the store keeps none.</param>
    public StoredObject(
        string key,
        Stream content,
        long? length,
        string? contentType,
        string? contentEncoding,
        IReadOnlyDictionary<string, string>? metadata)
    {
        ArgumentException.ThrowIfNullOrEmpty(key);
        ArgumentNullException.ThrowIfNull(content);
        Key = key;
        Content = content;
        Length = length;
        ContentType = contentType;
        ContentEncoding = contentEncoding;
        Metadata = metadata ?? new Dictionary<string, string>();
    }

    /// <summary>Gets the key.</summary>
    public string Key { get; }

    /// <summary>Gets the content, as stored (still compressed when <see cref="ContentEncoding"/> is <c>gzip</c>).</summary>
    public Stream Content { get; }

    /// <summary>Gets the length in bytes, if known.</summary>
    public long? Length { get; }

    /// <summary>Gets the media type, if known.</summary>
    public string? ContentType { get; }

    /// <summary>Gets the content encoding, if known.</summary>
    public string? ContentEncoding { get; }

    /// <summary>Gets the user metadata (lower-case keys without the <c>x-amz-meta-</c> prefix).</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; }

    /// <summary>Closes the content stream.</summary>
    public void Dispose() => Content.Dispose();

    /// <summary>Closes the content stream.</summary>
    /// <returns>A task that completes when the stream is closed.</returns>
    public ValueTask DisposeAsync() => Content.DisposeAsync();
}
