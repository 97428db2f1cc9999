using Microsoft.Extensions.Hosting;

namespace Evothesis.Collector;

/// <summary>Resolves relative paths from options against the host's content root.</summary>
internal sealed class CollectorPaths(IHostEnvironment? environment = null)
{
    public string Resolve(string path)
    {
        if (Path.IsPathRooted(path))
        {
            return path;
        }

        var root = environment?.ContentRootPath;
        return Path.GetFullPath(Path.Combine(string.IsNullOrEmpty(root) ? AppContext.BaseDirectory : root, path));
    }
}
