using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Evothesis.Collector.Testing;

/// <summary>
/// A throw-away PostgreSQL server: <c>initdb</c> into a temporary folder, started on a free loopback port with a
/// private socket folder, stopped and deleted on <see cref="DisposeAsync"/>. Runs as the <c>postgres</c> OS user
/// when the process is root (initdb refuses root). Shared by the tests and the benchmarks.
/// </summary>
public sealed class PostgresServer : IAsyncDisposable
{
    private const string OsUser = "postgres";

    private readonly string _binDirectory;
    private readonly string _root;
    private readonly string _dataDirectory;
    private readonly string _socketDirectory;
    private readonly string _logFile;
    private readonly IReadOnlyDictionary<string, string> _settings;
    private readonly bool _asPostgresUser;
    private int _disposed;

    private PostgresServer(string binDirectory, string root, IReadOnlyDictionary<string, string> settings, bool asPostgresUser)
    {
        _binDirectory = binDirectory;
        _root = root;
        _dataDirectory = Path.Combine(root, "data");
        _socketDirectory = Path.Combine(root, "socket");
        _logFile = Path.Combine(root, "postgres.log");
        _settings = settings;
        _asPostgresUser = asPostgresUser;
    }

    /// <summary>Gets the TCP port the server listens on (127.0.0.1).</summary>
    public int Port { get; private set; }

    /// <summary>Gets whether the server is running.</summary>
    public bool IsRunning { get; private set; }

    /// <summary>Settings for tests: durability off, which a test never needs and a shared disk is glad of.</summary>
    public static IReadOnlyDictionary<string, string> FastSettings { get; } = new Dictionary<string, string>
    {
        ["fsync"] = "off",
        ["synchronous_commit"] = "off",
        ["full_page_writes"] = "off",
        ["max_connections"] = "200",
    };

    /// <summary>Finds the PostgreSQL server programs: <c>pg_config --bindir</c>, else <c>/usr/lib/postgresql/*/bin</c>.</summary>
    /// <returns>The folder holding <c>initdb</c> and <c>pg_ctl</c>, or <see langword="null"/>.</returns>
    public static string? FindBinDirectory()
    {
        try
        {
            var (exitCode, output) = Run("pg_config", ["--bindir"], asPostgresUser: false, TimeSpan.FromSeconds(10));
            var candidate = output.Trim();
            if (exitCode == 0 && File.Exists(Path.Combine(candidate, "initdb")))
            {
                return candidate;
            }
        }
        catch (System.ComponentModel.Win32Exception)
        {
            // pg_config is not installed (it comes with libpq-dev); look in Debian's place.
        }

        const string DebianRoot = "/usr/lib/postgresql";
        if (!Directory.Exists(DebianRoot))
        {
            return null;
        }

        return Directory.GetDirectories(DebianRoot)
            .Select(d => Path.Combine(d, "bin"))
            .Where(d => File.Exists(Path.Combine(d, "initdb")))
            .OrderByDescending(d => int.TryParse(Path.GetFileName(Path.GetDirectoryName(d)), out var major) ? major : 0)
            .FirstOrDefault();
    }

    /// <summary>Creates a cluster in a new temporary folder and starts it.</summary>
    /// <param name="settings">Server settings (<c>-c name=value</c>); <see cref="FastSettings"/> when null.</param>
    /// <exception cref="InvalidOperationException">PostgreSQL is not installed, or does not start.</exception>
    public static async Task<PostgresServer> StartNewAsync(IReadOnlyDictionary<string, string>? settings = null)
    {
        var bin = FindBinDirectory() ?? throw new InvalidOperationException(
            "PostgreSQL server programs (initdb, pg_ctl) were not found: neither 'pg_config --bindir' nor /usr/lib/postgresql/*/bin " +
            "has them. Run the tests with ./test.sh, which installs PostgreSQL, or install it yourself: apt-get install -y postgresql.");

        var asPostgresUser = Environment.UserName == "root" || Environment.GetEnvironmentVariable("USER") == "root" || IsRoot();
        var root = Directory.CreateTempSubdirectory("evothesis-pg-").FullName;
        var server = new PostgresServer(bin, root, settings ?? FastSettings, asPostgresUser);
        try
        {
            await server.InitializeAsync();
            await server.StartAsync();
            return server;
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }

    /// <summary>Gets a connection string to a database on this server.</summary>
    public string ConnectionString(string database = "postgres") =>
        $"Host=127.0.0.1;Port={Port};Username={OsUser};Database={database};Pooling=true;Include Error Detail=false";

    /// <summary>Starts the server again on the same port after <see cref="StopAsync"/>.</summary>
    public async Task StartAsync()
    {
        if (IsRunning)
        {
            return;
        }

        // A port is only free until someone takes it: on a clash, try another (unless restarting on a known port).
        var attempts = Port == 0 ? 5 : 1;
        for (var attempt = 1; ; attempt++)
        {
            if (Port == 0 || attempt > 1)
            {
                Port = FreePort();
            }

            var options = new StringBuilder($"-p {Port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={_socketDirectory}");
            foreach (var (name, value) in _settings)
            {
                options.Append($" -c {name}={value}");
            }

            var (exitCode, output) = await RunAsync(
                Path.Combine(_binDirectory, "pg_ctl"),
                ["-D", _dataDirectory, "-l", _logFile, "-o", options.ToString(), "-w", "-t", "60", "start"],
                TimeSpan.FromSeconds(90));
            if (exitCode == 0)
            {
                IsRunning = true;
                return;
            }

            if (attempt >= attempts)
            {
                throw new InvalidOperationException($"PostgreSQL did not start (pg_ctl exit {exitCode}): {output}\n{ReadLog()}");
            }
        }
    }

    /// <summary>Stops the server (fast shutdown: sessions are ended, committed data is kept).</summary>
    public async Task StopAsync()
    {
        if (!IsRunning)
        {
            return;
        }

        var (exitCode, output) = await RunAsync(
            Path.Combine(_binDirectory, "pg_ctl"), ["-D", _dataDirectory, "-m", "fast", "-w", "-t", "60", "stop"], TimeSpan.FromSeconds(90));
        if (exitCode != 0)
        {
            throw new InvalidOperationException($"PostgreSQL did not stop (pg_ctl exit {exitCode}): {output}");
        }

        IsRunning = false;
    }

    /// <summary>Runs one SQL statement (no results) as the superuser.</summary>
    public async Task ExecuteAsync(string sql, string database = "postgres")
    {
        var (exitCode, output) = await RunAsync(
            Path.Combine(_binDirectory, "psql"),
            ["-h", "127.0.0.1", "-p", Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "-U", OsUser, "-d", database,
             "-v", "ON_ERROR_STOP=1", "-q", "-c", sql],
            TimeSpan.FromSeconds(60));
        if (exitCode != 0)
        {
            throw new InvalidOperationException($"psql failed (exit {exitCode}): {output}");
        }
    }

    /// <summary>Creates an empty database and returns its connection string.</summary>
    public async Task<string> CreateDatabaseAsync(string? name = null)
    {
        name ??= "t_" + Guid.NewGuid().ToString("N")[..16];
        await ExecuteAsync($"CREATE DATABASE \"{name}\"");
        return ConnectionString(name);
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        try
        {
            if (IsRunning)
            {
                await StopAsync();
            }
        }
        finally
        {
            try
            {
                Directory.Delete(_root, recursive: true);
            }
            catch (IOException)
            {
                // A temp folder left behind is harmless.
            }
            catch (UnauthorizedAccessException)
            {
            }
        }
    }

    private static bool IsRoot()
    {
        try
        {
            return Run("id", ["-u"], asPostgresUser: false, TimeSpan.FromSeconds(10)).Output.Trim() == "0";
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return false;
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static (int ExitCode, string Output) Run(string program, IReadOnlyList<string> arguments, bool asPostgresUser, TimeSpan timeout) =>
        RunCoreAsync(program, arguments, asPostgresUser, timeout).GetAwaiter().GetResult();

    private static async Task<(int ExitCode, string Output)> RunCoreAsync(string program, IReadOnlyList<string> arguments, bool asPostgresUser, TimeSpan timeout)
    {
        var start = new ProcessStartInfo
        {
            FileName = asPostgresUser ? "runuser" : program,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        if (asPostgresUser)
        {
            start.ArgumentList.Add("-u");
            start.ArgumentList.Add(OsUser);
            start.ArgumentList.Add("--");
            start.ArgumentList.Add(program);
        }

        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;

        // pg_ctl start leaves the server holding inherited pipes open; read until exit, not until end of stream.
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cancellation = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(cancellation.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"'{program}' did not finish within {timeout}.");
        }

        var output = await Task.WhenAny(Task.WhenAll(stdout, stderr), Task.Delay(TimeSpan.FromSeconds(2))) is Task<string[]> both
            ? string.Join("\n", both.Result)
            : "";
        return (process.ExitCode, output.Trim());
    }

    private Task<(int ExitCode, string Output)> RunAsync(string program, IReadOnlyList<string> arguments, TimeSpan timeout) =>
        RunCoreAsync(program, arguments, _asPostgresUser, timeout);

    private async Task InitializeAsync()
    {
        Directory.CreateDirectory(_dataDirectory);
        Directory.CreateDirectory(_socketDirectory);
        if (_asPostgresUser)
        {
            var (chown, chownOutput) = await RunCoreAsync("chown", ["-R", $"{OsUser}:", _root], asPostgresUser: false, TimeSpan.FromSeconds(30));
            if (chown != 0)
            {
                throw new InvalidOperationException($"Could not give {_root} to the '{OsUser}' user: {chownOutput}");
            }
        }

        var (exitCode, output) = await RunAsync(
            Path.Combine(_binDirectory, "initdb"),
            ["-D", _dataDirectory, "-U", OsUser, "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8", "--no-sync"],
            TimeSpan.FromSeconds(120));
        if (exitCode != 0)
        {
            throw new InvalidOperationException($"initdb failed (exit {exitCode}): {output}");
        }
    }

    private string ReadLog()
    {
        try
        {
            return File.Exists(_logFile) ? File.ReadAllText(_logFile) : "";
        }
        catch (IOException)
        {
            return "";
        }
    }
}
