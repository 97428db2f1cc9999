namespace Evothesis.Collector.Tests.Support;

/// <summary>Finds the repository root (the folder holding Evothesis.Collector.sln) from the test binaries.</summary>
public static class RepositoryRoot
{
    public static string Find()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "Evothesis.Collector.sln")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException($"No Evothesis.Collector.sln above {AppContext.BaseDirectory}.");
    }
}
