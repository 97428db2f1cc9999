using Evothesis.Collector.Sinks.ObjectStorage;

namespace Evothesis.Collector.Tests.Support;

/// <summary>
/// A store in front of a real one (a local folder) that a test can make fail, as a bucket would (<see cref="Failure"/>,
/// thrown instead of writing), or hold after a write (<see cref="HoldAfterPut"/>, as a process stopped between writing
/// an object and recording it). Its name says <c>s3:</c>: the sink takes it for a bucket.
/// </summary>
internal sealed class FaultyObjectStore(IObjectStore inner, string name = "s3:faulty") : IObjectStore
{
    private readonly TaskCompletionSource _held = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _puts;

    public string Name { get; } = name;

    /// <summary>Gets or sets what a put throws instead of writing; <see langword="null"/> writes.</summary>
    public Func<ObjectPutRequest, Exception?>? Failure { get; set; }

    /// <summary>Gets or sets a value indicating whether a put, once written, waits until its token is cancelled.</summary>
    public bool HoldAfterPut { get; set; }

    /// <summary>Gets the puts attempted.</summary>
    public int Puts => Volatile.Read(ref _puts);

    /// <summary>Completes when a put is held after writing.</summary>
    public Task Held => _held.Task;

    public async ValueTask PutAsync(ObjectPutRequest request, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _puts);
        if (Failure?.Invoke(request) is { } failure)
        {
            throw failure;
        }

        await inner.PutAsync(request, cancellationToken);
        if (HoldAfterPut)
        {
            _held.TrySetResult();
            await Task.Delay(Timeout.Infinite, cancellationToken);
        }
    }

    public IAsyncEnumerable<ObjectEntry> ListAsync(string prefix, CancellationToken cancellationToken) => inner.ListAsync(prefix, cancellationToken);

    public IAsyncEnumerable<string> ListPrefixesAsync(string prefix, CancellationToken cancellationToken) => inner.ListPrefixesAsync(prefix, cancellationToken);

    public ValueTask<StoredObject> GetAsync(string key, CancellationToken cancellationToken) => inner.GetAsync(key, cancellationToken);

    /// <summary>The failure a bucket of this kind reports.</summary>
    public static ObjectStoreException Error(ObjectStoreError error, string store = "s3:faulty") =>
        new(error, store, key: null, $"The store failed ({error}).");
}
