using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Amazon.S3;
using Amazon.S3.Model;

namespace Evothesis.Collector.Tests.Support;

/// <summary>
/// A real S3-protocol server for tests: s3rver (pinned in build/s3rver) on a free loopback port with a
/// temporary data folder, started on first use and stopped at the end of the run. s3rver does not check
/// signatures, so tests against it prove the protocol and the bytes, not the signing.
/// </summary>
public sealed class S3TestServer : IAsyncDisposable
{
    public const string AccessKey = "S3RVER";
    public const string SecretKey = "S3RVER";

    private static readonly object SharedLock = new();
    private static Task<S3TestServer>? s_shared;

    private readonly string _node;
    private readonly string _script;
    private readonly string _dataPath;
    private readonly StringBuilder _output;
    private Process _process;

    private S3TestServer(string node, string script, int port, string dataPath, StringBuilder output)
    {
        _node = node;
        _script = script;
        _dataPath = dataPath;
        _output = output;
        Port = port;
        ServiceUrl = $"http://127.0.0.1:{port}";
        _process = Launch();
    }

    public int Port { get; }

    public string ServiceUrl { get; }

    /// <summary>The server shared by every test of the run; started on first use, stopped by the S3TestServerShutdown fixture.</summary>
    public static Task<S3TestServer> GetSharedAsync()
    {
        lock (SharedLock)
        {
            return s_shared ??= StartAsync();
        }
    }

    internal static async Task StopSharedAsync()
    {
        Task<S3TestServer>? shared;
        lock (SharedLock)
        {
            shared = s_shared;
            s_shared = null;
        }

        if (shared is { IsCompletedSuccessfully: true })
        {
            await shared.Result.DisposeAsync();
        }
    }

    public static async Task<S3TestServer> StartAsync()
    {
        var root = RepositoryRoot.Find();
        var script = Path.Combine(root, "build", "s3rver", "node_modules", "s3rver", "bin", "s3rver.js");
        var node = FindOnPath("node")
            ?? throw new InvalidOperationException(
                "The S3 integration tests need Node.js to run s3rver, and 'node' is not on the PATH. Run ./test.sh, which installs " +
                "it (build/prerequisites.sh), or install nodejs and run 'npm ci' in build/s3rver.");
        if (!File.Exists(script))
        {
            throw new InvalidOperationException(
                $"The S3 integration tests need s3rver at {script}, which is missing. Run ./test.sh, which installs it " +
                "(build/prerequisites.sh runs 'npm ci' in build/s3rver), or run 'npm ci' in build/s3rver yourself.");
        }

        var failures = new StringBuilder();
        for (var attempt = 0; attempt < 3; attempt++)
        {
            var port = GetFreePort();
            var dataPath = Directory.CreateTempSubdirectory("evothesis-s3rver-").FullName;
            var server = new S3TestServer(node, script, port, dataPath, new StringBuilder());
            if (await server.WaitUntilAnsweringAsync(TimeSpan.FromSeconds(20)))
            {
                return server;
            }

            failures.AppendLine($"port {port}: {server.Output}");
            await server.DisposeAsync();
        }

        throw new InvalidOperationException($"s3rver did not start ({script}):{Environment.NewLine}{failures}");
    }

    /// <summary>
    /// The configuration that points the collector (or the replay tool) at this server: the endpoint, the credentials,
    /// and the buckets given.
    /// </summary>
    public Dictionary<string, string?> Settings(string? clientBucket = null, string? backupBucket = null)
    {
        var settings = new Dictionary<string, string?>
        {
            ["AWS_ENDPOINT_URL_S3"] = ServiceUrl,
            ["AWS_ACCESS_KEY_ID"] = AccessKey,
            ["AWS_SECRET_ACCESS_KEY"] = SecretKey,
        };
        if (clientBucket is not null)
        {
            settings["CLIENT_S3_BUCKET"] = clientBucket;
        }

        if (backupBucket is not null)
        {
            settings["BACKUP_S3_BUCKET"] = backupBucket;
        }

        return settings;
    }

    /// <summary>An S3 client for the server, configured as an S3-compatible endpoint (path style, us-east-1 signing).</summary>
    public AmazonS3Client CreateClient(string accessKey = AccessKey, string secretKey = SecretKey) =>
        new(accessKey, secretKey, new AmazonS3Config
        {
            ServiceURL = ServiceUrl,
            ForcePathStyle = true,
            AuthenticationRegion = "us-east-1",
        });

    /// <summary>
    /// Stops the server as an outage would (its clients get "connection refused"), keeping its port and data folder for
    /// <see cref="RestartAsync"/>. For a server of one's own (<see cref="StartAsync"/>), never the shared one.
    /// </summary>
    public async Task StopAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
    }

    /// <summary>Starts the server again on the same port and data folder: the buckets and objects are still there.</summary>
    public async Task RestartAsync()
    {
        await StopAsync();
        _process.Dispose();
        _process = Launch();
        if (!await WaitUntilAnsweringAsync(TimeSpan.FromSeconds(20)))
        {
            throw new InvalidOperationException($"s3rver did not start again on port {Port}:{Environment.NewLine}{Output}");
        }
    }

    /// <summary>Creates a bucket with a unique name and returns the name.</summary>
    public async Task<string> CreateBucketAsync(string hint = "test")
    {
        var name = $"{hint}-{Guid.NewGuid():N}".ToLowerInvariant();
        if (name.Length > 63)
        {
            throw new ArgumentException($"The hint '{hint}' makes the bucket name longer than 63 characters.", nameof(hint));
        }

        using var client = CreateClient();
        await client.PutBucketAsync(new PutBucketRequest { BucketName = name });
        return name;
    }

    /// <summary>Lists every key of a bucket, in order.</summary>
    public async Task<List<string>> ListKeysAsync(string bucket)
    {
        using var client = CreateClient();
        var keys = new List<string>();
        string? token = null;
        do
        {
            var page = await client.ListObjectsV2Async(new ListObjectsV2Request { BucketName = bucket, ContinuationToken = token });
            keys.AddRange((page.S3Objects ?? []).Select(o => o.Key));
            token = page.IsTruncated == true ? page.NextContinuationToken : null;
        }
        while (token is not null);
        return keys;
    }

    /// <summary>Downloads an object's stored bytes exactly (no decompression).</summary>
    public async Task<(byte[] Bytes, GetObjectResponse Response)> DownloadAsync(string bucket, string key)
    {
        using var client = CreateClient();
        var response = await client.GetObjectAsync(bucket, key);
        using var buffer = new MemoryStream();
        await using (response.ResponseStream)
        {
            await response.ResponseStream.CopyToAsync(buffer);
        }

        return (buffer.ToArray(), response);
    }

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

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                await _process.WaitForExitAsync();
            }
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }
        finally
        {
            _process.Dispose();
            try
            {
                Directory.Delete(_dataPath, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }

    private Process Launch()
    {
        var process = new Process
        {
            StartInfo = new ProcessStartInfo(_node)
            {
                // s3rver 3.7.1 signs ListObjectsV2 continuation tokens with DES, which OpenSSL 3 (Node 17+)
                // only offers through its legacy provider: without it every truncated listing fails with a 500.
                ArgumentList = { "--openssl-legacy-provider", _script, "-d", _dataPath, "-a", "127.0.0.1", "-p", Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--silent" },
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            },
        };
        process.OutputDataReceived += (_, e) => Append(_output, e.Data);
        process.ErrorDataReceived += (_, e) => Append(_output, e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    private async Task<bool> WaitUntilAnsweringAsync(TimeSpan budget)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < budget)
        {
            if (_process.HasExited)
            {
                return false;
            }

            try
            {
                using var response = await http.GetAsync(ServiceUrl + "/");
                return true;
            }
            catch (HttpRequestException)
            {
            }
            catch (TaskCanceledException)
            {
            }

            // Waiting for an external process to listen: polling is the only signal it gives.
            await Task.Delay(50);
        }

        return false;
    }

    private static void Append(StringBuilder output, string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (output)
        {
            output.AppendLine(line);
        }
    }

    private static int GetFreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static string? FindOnPath(string program)
    {
        foreach (var directory in (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = Path.Combine(directory, program);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        return null;
    }
}
