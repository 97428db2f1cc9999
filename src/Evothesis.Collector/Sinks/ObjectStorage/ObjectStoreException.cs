namespace Evothesis.Collector.Sinks.ObjectStorage;

/// <summary>An <see cref="IObjectStore"/> operation failed. The message says what to fix; it never holds credentials.</summary>
internal sealed class ObjectStoreException : Exception
{
    /// <summary>Initializes a new instance of the <see cref="ObjectStoreException"/> class.</summary>
    public ObjectStoreException()
        : this("The object store operation failed.")
    {
    }

    /// <summary>Initializes a new instance of the <see cref="ObjectStoreException"/> class.</summary>
    /// <param name="message">What failed and what to do about it.</param>
    public ObjectStoreException(string message)
        : this(message, null)
    {
    }

    /// <summary>Initializes a new instance of the <see cref="ObjectStoreException"/> class.</summary>
    /// <param name="message">What failed and what to do about it.</param>
    /// <param name="innerException">The store client's exception, if any.</param>
    public ObjectStoreException(string message, Exception? innerException)
        : this(ObjectStoreError.Failed, store: null, key: null, message, innerException)
    {
    }

    /// <summary>Initializes a new instance of the <see cref="ObjectStoreException"/> class.</summary>
    /// <param name="error">The kind of failure.</param>
    /// <param name="store">The store's name, such as <c>s3:bucket</c>.</param>
    /// <param name="key">The object key, when the failure concerns one object.</param>
    /// <param name="message">What failed and what to do about it.</param>
    /// <param name="innerException">The store client's exception, if any.</param>
    public ObjectStoreException(ObjectStoreError error, string? store, string? key, string message, Exception? innerException = null)
        : base(message, innerException)
    {
        Error = error;
        Store = store;
        Key = key;
    }

    /// <summary>Gets the kind of failure.</summary>
    public ObjectStoreError Error { get; }

    /// <summary>Gets the store's name, if known.</summary>
    public string? Store { get; }

    /// <summary>Gets the object key, when the failure concerns one object.</summary>
    public string? Key { get; }
}

/// <summary>The kinds of <see cref="ObjectStoreException"/>.</summary>
internal enum ObjectStoreError
{
    /// <summary>Any other failure: the store refused the request or could not be reached.</summary>
    Failed,

    /// <summary>The bucket (or folder) does not exist, or its name cannot be a bucket's. Configuration error: create it or fix its name.</summary>
    BucketNotFound,

    /// <summary>The credentials were refused or lack the permission. Configuration error: fix the credentials or the policy.</summary>
    AccessDenied,

    /// <summary>The object does not exist.</summary>
    ObjectNotFound,

    /// <summary>
    /// The store holds different bytes than were sent (the checksum it reports does not match). The object
    /// was removed again; a common cause is an S3-compatible server that stores <c>aws-chunked</c> framing
    /// (set <c>UseChunkEncoding</c> to <see langword="false"/>).
    /// </summary>
    IntegrityCheckFailed,
}
