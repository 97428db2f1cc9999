namespace Evothesis.Collector.Sinks.ObjectStorage;

/// <summary>
/// An <see cref="IObjectStore"/> on a local folder: keys become relative paths. Objects are written to a
/// temporary file, flushed to disk and renamed into place, so a crash never leaves a partial file under a
/// final name.
/// </summary>
internal sealed class LocalFolderObjectStore : IObjectStore
{
    private const string TemporarySuffix = ".partial";

    public LocalFolderObjectStore(string rootPath)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(rootPath);
        RootPath = Path.GetFullPath(rootPath);
        Name = "local:" + RootPath;
    }

    public string Name { get; }

    public string RootPath { get; }

    public async ValueTask PutAsync(ObjectPutRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var path = GetPath(request.Key);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);

        // Unique per attempt, so a retry never collides with the remains of an interrupted one.
        var temporary = $"{path}.{Guid.NewGuid():N}{TemporarySuffix}";
        try
        {
            var stream = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None, bufferSize: 0, useAsync: true);
            await using (stream.ConfigureAwait(false))
            {
                await request.Content.CopyToAsync(stream, cancellationToken).ConfigureAwait(false);
                stream.Flush(flushToDisk: true);
            }

            File.Move(temporary, path, overwrite: true);
        }
        catch
        {
            TryDelete(temporary);
            throw;
        }
    }

    /// <summary>Maps a key to a path under the root, refusing keys that would leave it.</summary>
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
