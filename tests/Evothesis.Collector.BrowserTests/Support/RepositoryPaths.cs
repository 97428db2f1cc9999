namespace Evothesis.Collector.BrowserTests.Support;

/// <summary>Folders of the repository the tests run from.</summary>
internal static class RepositoryPaths
{
    private static readonly Lazy<string> RootPath = new(FindRoot);

    /// <summary>Gets the repository root (the folder holding Evothesis.Collector.sln).</summary>
    public static string Root => RootPath.Value;

    /// <summary>Gets the demo integration site's folder.</summary>
    public static string DemoSite => Path.Combine(Root, "testing");

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Evothesis.Collector.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException($"No Evothesis.Collector.sln above {AppContext.BaseDirectory}: run the tests from the repository.");
    }
}
