using System.Runtime.InteropServices;

namespace Evothesis.Collector.Sinks.ObjectStorage.Internal;

/// <summary>
/// Makes a rename and newly created folders durable. On Linux and macOS a file's data can be on disk while the
/// directory entry naming it is not: after a power loss the file would be gone. Flushing the directory closes
/// that gap. Windows (NTFS journals metadata) needs nothing.
/// </summary>
internal static partial class DirectorySync
{
    private const int ReadOnly = 0;

    /// <summary>Creates a folder and its missing parents, flushing each parent that gained an entry.</summary>
    public static void CreateDirectory(string path)
    {
        var missing = new Stack<string>();
        for (var current = path; !Directory.Exists(current); current = Path.GetDirectoryName(current)!)
        {
            missing.Push(current);
        }

        if (missing.Count == 0)
        {
            return;
        }

        Directory.CreateDirectory(path);
        foreach (var created in missing)
        {
            Flush(Path.GetDirectoryName(created)!);
        }
    }

    /// <summary>Flushes a folder's entries to disk.</summary>
    /// <exception cref="IOException">The folder could not be flushed.</exception>
    public static void Flush(string directory)
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        var descriptor = Open(directory, ReadOnly);
        if (descriptor < 0)
        {
            throw new IOException($"Could not open the folder '{directory}' to flush it (errno {Marshal.GetLastPInvokeError()}).");
        }

        try
        {
            if (Fsync(descriptor) != 0)
            {
                throw new IOException($"Could not flush the folder '{directory}' to disk (errno {Marshal.GetLastPInvokeError()}).");
            }
        }
        finally
        {
            _ = Close(descriptor);
        }
    }

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "fsync", SetLastError = true)]
    private static partial int Fsync(int descriptor);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    private static partial int Close(int descriptor);
}
