namespace Evothesis.Collector.Tests.Support;

/// <summary>A directory deleted with everything in it when disposed.</summary>
public sealed class TempDirectory : IDisposable
{
    public TempDirectory()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "evothesis-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    /// <summary>Gets the files stored under the directory, leaving out the collector's write-ahead spool (its working state).</summary>
    public string[] Files(string pattern = "*")
    {
        var spool = System.IO.Path.Combine(Path, Evothesis.Collector.Spool.SpoolOptions.DefaultFolderName) + System.IO.Path.DirectorySeparatorChar;
        return Directory.GetFiles(Path, pattern, SearchOption.AllDirectories).Where(f => !f.StartsWith(spool, StringComparison.Ordinal)).ToArray();
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
        }
    }
}
