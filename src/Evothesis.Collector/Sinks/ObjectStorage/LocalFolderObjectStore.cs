using System.Runtime.CompilerServices;
using Evothesis.Collector.Sinks.ObjectStorage.Internal;

namespace Evothesis.Collector.Sinks.ObjectStorage;

/// <summary>
/// An <see cref="IObjectStore"/> on a local folder, the embedded twin of a bucket: keys become relative paths,
/// so the folder holds the same layout a bucket would. Objects are written to a temporary file, flushed to
/// disk and renamed into place, so a crash never leaves a partial file under a final name.
/// </summary>
/// <remarks>
/// A folder keeps no content type or user metadata: <see cref="GetAsync"/> infers the encoding from the
/// <c>.gz</c> extension and returns empty metadata.
/// </remarks>
internal sealed class LocalFolderObjectStore : IObjectStore
{
    private const string TemporarySuffix = ".partial";

    /// <summary>Initializes a new instance of the <see cref="LocalFolderObjectStore"/> class.</summary>
    /// <param name="rootPath">The folder; created on the first write.</param>
    public LocalFolderObjectStore(string rootPath)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(rootPath);
        RootPath = Path.TrimEndingDirectorySeparator(Path.GetFullPath(rootPath));
        Name = "local:" + RootPath;
    }

    /// <inheritdoc />
    public string Name { get; }

    /// <summary>Gets the full path of the folder.</summary>
    public string RootPath { get; }

    /// <inheritdoc />
    public async ValueTask PutAsync(ObjectPutRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var path = GetPath(request.Key);

        // Unique per attempt, so a retry never collides with the remains of an interrupted one.
        var temporary = $"{path}.{Guid.NewGuid():N}{TemporarySuffix}";
        FileStream stream;
        try
        {
            DirectorySync.CreateDirectory(Path.GetDirectoryName(path)!);
            stream = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None, bufferSize: 0, useAsync: true);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw Translate(ex, request.Key, "write");
        }

        try
        {
            // A failure of the caller's content stream propagates as it is: it is not the folder's.
            await using (stream.ConfigureAwait(false))
            {
                await request.Content.CopyToAsync(stream, cancellationToken).ConfigureAwait(false);
                stream.Flush(flushToDisk: true);
            }

            try
            {
                File.Move(temporary, path, overwrite: true);

                // The data is on disk; this puts the name there too, before the write is reported done.
                DirectorySync.Flush(Path.GetDirectoryName(path)!);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                throw Translate(ex, request.Key, "write");
            }
        }
        catch
        {
            TryDelete(temporary);
            throw;
        }
    }

    /// <inheritdoc />
    public async IAsyncEnumerable<ObjectEntry> ListAsync(string prefix, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(prefix);
        var (directory, _) = SplitPrefix(prefix);
        if (!Directory.Exists(directory))
        {
            yield break;
        }

        var entries = new List<ObjectEntry>();
        try
        {
            foreach (var file in new DirectoryInfo(directory).EnumerateFiles("*", SearchOption.AllDirectories))
            {
                cancellationToken.ThrowIfCancellationRequested();
                if (file.Name.EndsWith(TemporarySuffix, StringComparison.Ordinal))
                {
                    continue;
                }

                var key = ToKey(file.FullName);
                if (key.StartsWith(prefix, StringComparison.Ordinal))
                {
                    entries.Add(new ObjectEntry(key, file.Length, new DateTimeOffset(file.LastWriteTimeUtc, TimeSpan.Zero)));
                }
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw Translate(ex, key: null, "list");
        }

        entries.Sort(static (a, b) => string.CompareOrdinal(a.Key, b.Key));
        foreach (var entry in entries)
        {
            yield return entry;
        }

        await Task.CompletedTask.ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async IAsyncEnumerable<string> ListPrefixesAsync(string prefix, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(prefix);
        var (directory, stem) = SplitPrefix(prefix);
        if (!Directory.Exists(directory))
        {
            yield break;
        }

        var keyDirectory = prefix[..(prefix.Length - stem.Length)];
        List<string> prefixes;
        try
        {
            prefixes = new DirectoryInfo(directory)
                .EnumerateDirectories()
                .Select(d => d.Name)
                .Where(name => name.StartsWith(stem, StringComparison.Ordinal))
                .Select(name => keyDirectory + name + "/")
                .ToList();
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw Translate(ex, key: null, "list");
        }

        prefixes.Sort(StringComparer.Ordinal);
        foreach (var p in prefixes)
        {
            cancellationToken.ThrowIfCancellationRequested();
            yield return p;
        }

        await Task.CompletedTask.ConfigureAwait(false);
    }

    /// <inheritdoc />
    public ValueTask<StoredObject> GetAsync(string key, CancellationToken cancellationToken)
    {
        var path = GetPath(key);
        try
        {
            var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 81920, useAsync: true);
            var gzip = key.EndsWith(".gz", StringComparison.Ordinal);
            var contentType = key.EndsWith(ObjectKeyLayout.Extension, StringComparison.Ordinal) ? ObjectStorageEventSink.ContentType : null;
            return ValueTask.FromResult(new StoredObject(key, stream, stream.Length, contentType, gzip ? "gzip" : null, metadata: null));
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new ObjectStoreException(ObjectStoreError.ObjectNotFound, Name, key, $"The object '{key}' does not exist in {Name}.", ex);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw Translate(ex, key, "read");
        }
    }

    /// <summary>Maps a key to a path under the root, refusing keys that would leave it.</summary>
    /// <param name="key">The key.</param>
    /// <returns>The full path.</returns>
    /// <exception cref="ArgumentException">The key is empty or leaves the folder.</exception>
    public string GetPath(string key)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(key);
        var path = Path.GetFullPath(Path.Combine(RootPath, key));
        if (!path.StartsWith(RootPath + Path.DirectorySeparatorChar, StringComparison.Ordinal))
        {
            throw new ArgumentException($"The key '{key}' leaves the storage folder.", nameof(key));
        }

        return path;
    }

    private (string Directory, string Stem) SplitPrefix(string prefix)
    {
        var slash = prefix.LastIndexOf('/');
        var directory = slash < 0 ? RootPath : Path.GetFullPath(Path.Combine(RootPath, prefix[..slash]));
        if (directory != RootPath && !directory.StartsWith(RootPath + Path.DirectorySeparatorChar, StringComparison.Ordinal))
        {
            throw new ArgumentException($"The prefix '{prefix}' leaves the storage folder.", nameof(prefix));
        }

        return (directory, prefix[(slash + 1)..]);
    }

    private string ToKey(string fullPath)
    {
        var relative = fullPath[(RootPath.Length + 1)..];
        return Path.DirectorySeparatorChar == '/' ? relative : relative.Replace(Path.DirectorySeparatorChar, '/');
    }

    private ObjectStoreException Translate(Exception ex, string? key, string operation)
    {
        var target = key is null ? Name : $"'{key}' in {Name}";
        return ex is UnauthorizedAccessException
            ? new ObjectStoreException(ObjectStoreError.AccessDenied, Name, key, $"Could not {operation} {target}: access to the folder was denied. Check its permissions.", ex)
            : new ObjectStoreException(ObjectStoreError.Failed, Name, key, $"Could not {operation} {target}: {ex.Message}", ex);
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
            // The file is being replaced or was never created; either way there is nothing to clean up.
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
