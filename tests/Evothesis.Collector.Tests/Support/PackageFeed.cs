using System.Globalization;
using System.IO.Compression;
using System.Xml.Linq;

namespace Evothesis.Collector.Tests.Support;

/// <summary>
/// The four packages under <c>src/</c>, packed once per test run into a folder feed under a version of their own
/// (so the machine's package cache never serves an older build of the same version), with the repository's build
/// outputs left alone (<c>--artifacts-path</c>).
/// </summary>
public sealed class PackageFeed : IDisposable
{
    public static readonly string[] PackageIds =
    [
        "Evothesis.Collector",
        "Evothesis.Collector.AspNetCore",
        "Evothesis.Collector.PostgreSql",
        "Evothesis.Collector.S3",
    ];

    /// <summary>How long packing the four packages may take (a cold Release build of each on a busy machine).</summary>
    private static readonly TimeSpan PackTimeout = TimeSpan.FromMinutes(6);

    private readonly TempDirectory _root = new();

    private PackageFeed(string version)
    {
        Version = version;
        FeedPath = Path.Combine(_root.Path, "feed");
    }

    public string Version { get; }

    public string FeedPath { get; }

    /// <summary>Gets the folder consumer apps are created in, beside the feed.</summary>
    public string WorkPath => _root.Path;

    public static async Task<PackageFeed> PackAsync()
    {
        var version = "0.1.0-consumer." + DateTime.UtcNow.ToString("yyyyMMddHHmmss", CultureInfo.InvariantCulture) + Random.Shared.Next(1000, 9999).ToString(CultureInfo.InvariantCulture);
        var feed = new PackageFeed(version);
        try
        {
            var repository = RepositoryRoot.Find();
            var solution = Path.Combine(feed.WorkPath, "packages.slnx");
            await File.WriteAllTextAsync(solution, new XElement(
                "Solution",
                PackageIds.Select(id => new XElement("Project", new XAttribute("Path", Path.Combine(repository, "src", id, id + ".csproj"))))).ToString());
            await DotnetCommand.RunAsync(
                feed.WorkPath,
                PackTimeout,
                "pack", solution, "-c", "Release", "-o", feed.FeedPath, "--artifacts-path", Path.Combine(feed.WorkPath, "artifacts"), "-p:Version=" + version);
            return feed;
        }
        catch
        {
            feed.Dispose();
            throw;
        }
    }

    public string PackagePath(string id, string extension = "nupkg") => Path.Combine(FeedPath, $"{id}.{Version}.{extension}");

    /// <summary>Gets the dependencies the package's nuspec declares: id and version range.</summary>
    public IReadOnlyDictionary<string, string> Dependencies(string id)
    {
        using var package = ZipFile.OpenRead(PackagePath(id));
        var nuspec = package.Entries.Single(e => e.FullName.EndsWith(".nuspec", StringComparison.Ordinal));
        using var stream = nuspec.Open();
        var document = XDocument.Load(stream);
        return document.Descendants().Where(e => e.Name.LocalName == "dependency")
            .ToDictionary(e => (string)e.Attribute("id")!, e => (string)e.Attribute("version")!, StringComparer.Ordinal);
    }

    /// <summary>Writes a <c>nuget.config</c> that takes the Evothesis packages from this feed only, and everything else from the machine's usual source.</summary>
    public void WriteNuGetConfig(string folder) =>
        File.WriteAllText(Path.Combine(folder, "nuget.config"), $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <packageSources>
                <clear />
                <add key="evothesis-feed" value="{FeedPath}" />
                <add key="nuget.org" value="https://api.nuget.org/v3/index.json" protocolVersion="3" />
              </packageSources>
              <packageSourceMapping>
                <packageSource key="evothesis-feed"><package pattern="Evothesis.*" /></packageSource>
                <packageSource key="nuget.org"><package pattern="*" /></packageSource>
              </packageSourceMapping>
            </configuration>
            """);

    public void Dispose()
    {
        _root.Dispose();

        // This run's version in the machine's package cache would only ever be read by this run.
        var cache = Environment.GetEnvironmentVariable("NUGET_PACKAGES")
            ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        foreach (var id in PackageIds)
        {
            var folder = Path.Combine(cache, id.ToLowerInvariant(), Version);
            if (Directory.Exists(folder))
            {
                Directory.Delete(folder, recursive: true);
            }
        }
    }
}
