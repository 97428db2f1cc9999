using Evothesis.Collector.Sinks.ObjectStorage.Internal;
using Evothesis.Collector.Tests.Support;

namespace Evothesis.Collector.Tests.Sinks.ObjectStorage;

public class DirectorySyncTests
{
    [Test]
    public void CreateDirectory_MissingParents_CreatesThemAll()
    {
        using var root = new TempDirectory();
        var path = Path.Combine(root.Path, "client_id=a", "date=2026-11-26", "hour=09");

        DirectorySync.CreateDirectory(path);

        Directory.Exists(path).Should().BeTrue();
    }

    [Test]
    public void Flush_ExistingFolder_Succeeds()
    {
        using var root = new TempDirectory();

        FluentActions.Invoking(() => DirectorySync.Flush(root.Path)).Should().NotThrow();
    }

    [Test]
    public void Flush_MissingFolder_FailsLoudlyWhereFoldersAreFlushed()
    {
        using var root = new TempDirectory();

        var act = () => DirectorySync.Flush(Path.Combine(root.Path, "missing"));

        if (OperatingSystem.IsWindows())
        {
            act.Should().NotThrow("NTFS journals metadata: there is nothing to flush");
        }
        else
        {
            act.Should().Throw<IOException>().WithMessage("*missing*");
        }
    }
}
