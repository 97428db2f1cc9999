using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;

namespace Evothesis.Collector.Tests.Support;

/// <summary>
/// The built sample host as a real OS process (<c>dotnet Evothesis.Collector.Sample.dll</c>, copied next to the tests) on
/// a free loopback port, in Development, storing under <see cref="StoragePath"/> with its local folder sink, logging at
/// Warning. It can be killed (SIGKILL), terminated (SIGTERM) and started again on the same folders; its stdout and stderr
/// are kept across starts.
/// </summary>
public sealed class SampleProcess : IAsyncDisposable
{
    /// <summary>How long a start may take until <c>/health</c> answers.</summary>
    public static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(30);

    private static readonly string SampleDll = Path.Combine(AppContext.BaseDirectory, "Evothesis.Collector.Sample.dll");

    private readonly Dictionary<string, string?> _settings;
    private readonly StringBuilder _output = new();
    private readonly HttpClient _probe = new() { Timeout = TimeSpan.FromSeconds(5) };
    private Process? _process;

    /// <param name="storagePath">The storage folder (<c>Evothesis:Storage:Path</c>); the spool is under it unless a setting moves it.</param>
    /// <param name="settings">Configuration keys (<c>Evothesis:Batching:AckMode</c>) passed as environment variables.</param>
    public SampleProcess(string storagePath, IReadOnlyDictionary<string, string?>? settings = null)
    {
        StoragePath = storagePath;
        _settings = new Dictionary<string, string?>(StringComparer.Ordinal)
        {
            ["Evothesis:Storage:Path"] = storagePath,
            ["Evothesis:Authorization:ClientsFile"] = Path.Combine(RepositoryRoot.Find(), "samples", "Evothesis.Collector.Sample", "clients.json"),
            ["Logging:LogLevel:Default"] = "Warning",
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            _settings[key] = value;
        }
    }

    public string StoragePath { get; }

    /// <summary>Gets the address of the running process, such as <c>http://127.0.0.1:41234/</c>.</summary>
    public Uri BaseAddress { get; private set; } = new("http://127.0.0.1/");

    /// <summary>Gets the process id of the running process.</summary>
    public int Id => _process?.Id ?? throw new InvalidOperationException("The sample process was not started.");

    /// <summary>Gets a value indicating whether the process was started and has not exited.</summary>
    public bool IsRunning => _process is { HasExited: false };

    /// <summary>Gets what every start of the process wrote to stdout and stderr, so far.</summary>
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

    /// <summary>Starts the process on a new free port and waits until <c>/health</c> answers (whatever its status).</summary>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (IsRunning)
        {
            throw new InvalidOperationException("The sample process is already running.");
        }

        if (!File.Exists(SampleDll))
        {
            throw new FileNotFoundException("The sample host is not next to the tests: the test project references it.", SampleDll);
        }

        _process?.Dispose();
        BaseAddress = new Uri($"http://127.0.0.1:{LoopbackPort.Free().ToString(CultureInfo.InvariantCulture)}/");
        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
        {
            // The content root: the sample's appsettings.json is copied next to the tests too.
            WorkingDirectory = AppContext.BaseDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(SampleDll);
        start.ArgumentList.Add("--urls");
        start.ArgumentList.Add(BaseAddress.GetLeftPart(UriPartial.Authority));
        start.Environment.Remove("ASPNETCORE_URLS");
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Development";
        foreach (var (key, value) in _settings)
        {
            start.Environment[key.Replace(":", "__", StringComparison.Ordinal)] = value;
        }

        var process = new Process { StartInfo = start };
        process.OutputDataReceived += (_, e) => Append(e.Data);
        process.ErrorDataReceived += (_, e) => Append(e.Data);
        Append($"--- start on {BaseAddress}");
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _process = process;

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(StartTimeout);
        while (true)
        {
            if (process.HasExited)
            {
                throw new InvalidOperationException($"The sample process exited with {process.ExitCode} while starting:\n{Output}");
            }

            try
            {
                using var response = await _probe.GetAsync(new Uri(BaseAddress, "health"), timeout.Token);
                return;
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }
            catch (OperationCanceledException) when (timeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
            {
                throw new TimeoutException($"The sample process did not answer /health within {StartTimeout}:\n{Output}");
            }

            await Task.Delay(50, timeout.Token);
        }
    }

    /// <summary>Kills the process with SIGKILL, as <c>kill -9</c> would, and waits until it is gone.</summary>
    public void Kill()
    {
        var process = _process ?? throw new InvalidOperationException("The sample process was not started.");
        process.Kill(entireProcessTree: true);
        process.WaitForExit();
        Append("--- killed");
    }

    /// <summary>Sends SIGTERM, as an orchestrator stopping the container would, and waits for the process to exit by itself.</summary>
    /// <returns>The exit code.</returns>
    public async Task<int> TerminateAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        var process = _process ?? throw new InvalidOperationException("The sample process was not started.");
        using (var kill = Process.Start("/bin/kill", ["-TERM", process.Id.ToString(CultureInfo.InvariantCulture)]))
        {
            await kill.WaitForExitAsync(cancellationToken);
            if (kill.ExitCode != 0)
            {
                throw new InvalidOperationException($"kill -TERM {process.Id} failed with {kill.ExitCode}.");
            }
        }

        using var budget = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        budget.CancelAfter(timeout);
        try
        {
            await process.WaitForExitAsync(budget.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException($"The sample process did not exit within {timeout} of SIGTERM:\n{Output}");
        }

        Append($"--- exited with {process.ExitCode} after SIGTERM");
        return process.ExitCode;
    }

    /// <summary>Gets <c>/health</c>'s status code.</summary>
    public async Task<HttpStatusCode> HealthAsync(CancellationToken cancellationToken)
    {
        using var response = await _probe.GetAsync(new Uri(BaseAddress, "health"), cancellationToken);
        return response.StatusCode;
    }

    public async ValueTask DisposeAsync()
    {
        if (IsRunning)
        {
            _process!.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process?.Dispose();
        _probe.Dispose();
    }


    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_output)
        {
            _output.AppendLine(line);
        }
    }
}
