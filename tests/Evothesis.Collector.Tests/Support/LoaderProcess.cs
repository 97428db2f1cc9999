using System.Diagnostics;
using System.Text;

namespace Evothesis.Collector.Tests.Support;

/// <summary>
/// The built loader (<c>dotnet Evothesis.Collector.Loader.dll</c> in the loader's own build folder, with its own
/// dependencies: the tests' folder resolves some of them from the ASP.NET Core framework, which a worker does not load)
/// as a real OS process, run from a folder of its own, configured through environment variables. It can be killed (SIGKILL) and started again; its output is kept across starts.
/// </summary>
public sealed class LoaderProcess : IAsyncDisposable
{
    // Built by the test project's reference, with the same configuration and target framework as the tests.
    private static readonly string LoaderDll = Path.Combine(
        RepositoryRoot.Find(),
        "samples",
        "Evothesis.Collector.Loader",
        "bin",
        new DirectoryInfo(AppContext.BaseDirectory).Parent!.Name,
        new DirectoryInfo(AppContext.BaseDirectory).Name,
        "Evothesis.Collector.Loader.dll");

    private readonly Dictionary<string, string?> _settings;
    private readonly string _folder;
    private readonly StringBuilder _output = new();
    private Process? _process;

    /// <param name="folder">The working folder; the loader's storage (its idle spool) goes under it.</param>
    /// <param name="settings">Configuration keys (<c>Evothesis:Nats:Url</c>) passed as environment variables.</param>
    public LoaderProcess(string folder, IReadOnlyDictionary<string, string?> settings)
    {
        _folder = folder;
        _settings = new Dictionary<string, string?>(StringComparer.Ordinal)
        {
            ["Evothesis:Storage:Path"] = Path.Combine(folder, "data"),
            ["Logging:LogLevel:Default"] = "Warning",
        };
        foreach (var (key, value) in settings)
        {
            _settings[key] = value;
        }
    }

    public bool IsRunning => _process is { HasExited: false };

    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    public void Start()
    {
        if (IsRunning)
        {
            throw new InvalidOperationException("The loader is already running.");
        }

        if (!File.Exists(LoaderDll))
        {
            throw new FileNotFoundException("The loader is not built: the test project references it.", LoaderDll);
        }

        _process?.Dispose();
        Directory.CreateDirectory(_folder);
        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
        {
            WorkingDirectory = _folder,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(LoaderDll);
        start.ArgumentList.Add("--contentRoot");
        start.ArgumentList.Add(_folder);
        start.Environment["DOTNET_ENVIRONMENT"] = "Development";
        foreach (var (key, value) in _settings)
        {
            start.Environment[key.Replace(":", "__", StringComparison.Ordinal)] = value;
        }

        var process = new Process { StartInfo = start };
        process.OutputDataReceived += (_, e) => Append(e.Data);
        process.ErrorDataReceived += (_, e) => Append(e.Data);
        Append("--- start");
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _process = process;
    }

    /// <summary>Kills the process with SIGKILL, as <c>kill -9</c> would, and waits until it is gone.</summary>
    public void Kill()
    {
        var process = _process ?? throw new InvalidOperationException("The loader was not started.");
        process.Kill(entireProcessTree: true);
        process.WaitForExit();
        Append("--- killed");
    }

    public async ValueTask DisposeAsync()
    {
        if (IsRunning)
        {
            _process!.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process?.Dispose();
    }

    private void Append(string? line)
    {
        if (line is not null)
        {
            lock (_output)
            {
                _output.AppendLine(line);
            }
        }
    }
}
