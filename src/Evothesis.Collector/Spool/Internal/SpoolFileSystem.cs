using Evothesis.Collector.Sinks.ObjectStorage.Internal;
using Microsoft.Win32.SafeHandles;

namespace Evothesis.Collector.Spool.Internal;

/// <summary>
/// The file operations the spool writes through: the writer's writes and flushes, checkpoint files and
/// truncation in recovery. A seam so that tests can fail a write or hold a flush; reads go to the files directly.
/// </summary>
internal interface ISpoolFileSystem
{
    void CreateDirectory(string path);

    SafeFileHandle OpenForWrite(string path, FileMode mode);

    void Write(SafeFileHandle file, ReadOnlySpan<byte> data, long fileOffset);

    /// <summary>Flushes a file's data and size to disk (fsync).</summary>
    void Flush(SafeFileHandle file);

    /// <summary>Flushes a folder's entries to disk, so that a created, renamed or removed file stays so.</summary>
    void FlushDirectory(string path);

    void SetLength(SafeFileHandle file, long length);

    void Move(string source, string destination);

    void Delete(string path);

    /// <summary>Gets the bytes free for this process on the disk that holds <paramref name="path"/>.</summary>
    long GetAvailableFreeSpace(string path);
}

internal sealed class PhysicalSpoolFileSystem : ISpoolFileSystem
{
    public static readonly PhysicalSpoolFileSystem Instance = new();

    public void CreateDirectory(string path) => DirectorySync.CreateDirectory(path);

    public SafeFileHandle OpenForWrite(string path, FileMode mode) =>
        File.OpenHandle(path, mode, FileAccess.ReadWrite, FileShare.Read | FileShare.Delete);

    public void Write(SafeFileHandle file, ReadOnlySpan<byte> data, long fileOffset) => RandomAccess.Write(file, data, fileOffset);

    public void Flush(SafeFileHandle file) => RandomAccess.FlushToDisk(file);

    public void FlushDirectory(string path) => DirectorySync.Flush(path);

    public void SetLength(SafeFileHandle file, long length) => RandomAccess.SetLength(file, length);

    public void Move(string source, string destination) => File.Move(source, destination, overwrite: true);

    public void Delete(string path) => File.Delete(path);

    public long GetAvailableFreeSpace(string path) => new DriveInfo(path).AvailableFreeSpace;
}
