using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;

namespace Evothesis.Collector.Tests.Support;

/// <summary>
/// A web app made as a consumer makes one: <c>dotnet new web</c> in a folder of its own, the Evothesis packages added by
/// version from a <see cref="PackageFeed"/>, a Program.cs of a few lines, built and run as a real process on a free
/// loopback port, with the sample's demo clients file (<c>localhost</c> is <c>client_test</c>).
/// </summary>
public sealed class ConsumerApp : IAsyncDisposable
{
    private static readonly TimeSpan CommandTimeout = TimeSpan.FromMinutes(3);
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(30);

    private readonly StringBuilder _output = new();
    private Process? _process;

    private ConsumerApp(string folder) => Folder = folder;

    /// <summary>Gets the app's folder, its content root.</summary>
    public string Folder { get; }

    public Uri BaseAddress { get; private set; } = new("http://127.0.0.1/");

    public HttpClient Http { get; } = new() { Timeout = TimeSpan.FromSeconds(10) };

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

    /// <summary>Creates the app, adds <paramref name="packages"/> from the feed and writes <paramref name="program"/> as its Program.cs.</summary>
    public static async Task<ConsumerApp> CreateAsync(PackageFeed feed, string name, string program, params string[] packages)
    {
        var app = new ConsumerApp(Path.Combine(feed.WorkPath, name));
        await DotnetCommand.RunAsync(feed.WorkPath, CommandTimeout, "new", "web", "-o", app.Folder, "-n", name, "--no-restore");
        feed.WriteNuGetConfig(app.Folder);
        foreach (var package in packages)
        {
            await DotnetCommand.RunAsync(app.Folder, CommandTimeout, "add", "package", package, "--version", feed.Version);
        }

        await File.WriteAllTextAsync(Path.Combine(app.Folder, "Program.cs"), program);
        File.Copy(Path.Combine(RepositoryRoot.Find(), "samples", "Evothesis.Collector.Sample", "clients.json"), Path.Combine(app.Folder, "clients.json"));
        await DotnetCommand.RunAsync(app.Folder, CommandTimeout, "build", "-c", "Release", "-o", Path.Combine(app.Folder, "out"));
        return app;
    }

    /// <summary>Starts the built app with <paramref name="environment"/> and waits until it answers HTTP.</summary>
    public async Task StartAsync(IReadOnlyDictionary<string, string>? environment = null)
    {
        BaseAddress = new Uri($"http://127.0.0.1:{LoopbackPort.Free().ToString(CultureInfo.InvariantCulture)}/");
        var dll = Path.Combine(Folder, "out", Path.GetFileName(Folder) + ".dll");
        var start = DotnetCommand.Prepare(Folder, dll, "--urls", BaseAddress.GetLeftPart(UriPartial.Authority));
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[key] = value;
        }

        var process = new Process { StartInfo = start };
        process.OutputDataReceived += (_, e) => Append(e.Data);
        process.ErrorDataReceived += (_, e) => Append(e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _process = process;

        using var timeout = new CancellationTokenSource(StartTimeout);
        while (true)
        {
            if (process.HasExited)
            {
                throw new InvalidOperationException($"{Path.GetFileName(Folder)} exited with {process.ExitCode} while starting:\n{Output}");
            }

            try
            {
                // Only POST /collect is mapped: any answer means the app listens.
                using var response = await Http.GetAsync(BaseAddress, timeout.Token);
                return;
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }
            catch (OperationCanceledException) when (timeout.IsCancellationRequested)
            {
                throw new TimeoutException($"{Path.GetFileName(Folder)} did not answer within {StartTimeout}:\n{Output}");
            }

            await Task.Delay(100, timeout.Token);
        }
    }

    /// <summary>Posts a JSON body to <c>/collect</c>, as the README's curl examples do.</summary>
    public async Task<(HttpStatusCode Status, string Body)> CollectAsync(string json)
    {
        using var content = new StringContent(json, Encoding.UTF8, "application/json");
        using var response = await Http.PostAsync(new Uri(BaseAddress, "collect"), content);
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    public async ValueTask DisposeAsync()
    {
        if (_process is { HasExited: false })
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process?.Dispose();
        Http.Dispose();
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
