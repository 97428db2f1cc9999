using System.Diagnostics;
using System.Globalization;
using System.Text;
using NATS.Client.Core;
using NATS.Client.JetStream;

namespace Evothesis.Collector.Tests.Support;

/// <summary>
/// <c>nats-server</c> processes with JetStream on loopback, one folder each, started by the test and killed on
/// <see cref="DisposeAsync"/>: a single server, or a cluster whose nodes route to each other. A node can be killed
/// (SIGKILL) and started again on the same ports and folder. When <c>nats-server</c> is not installed the tests that need
/// it fail with a message pointing at <c>./test.sh</c>.
/// </summary>
public sealed class NatsTestCluster : IAsyncDisposable
{
    /// <summary>How long a start may take until JetStream answers (a cluster elects its metadata leader first).</summary>
    public static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(30);

    private readonly string _binary;
    private readonly TempDirectory _root = new();
    private readonly Node[] _nodes;

    private NatsTestCluster(string binary, int size)
    {
        _binary = binary;
        _nodes = Enumerable.Range(0, size).Select(i => new Node(i, LoopbackPort.Free(), size > 1 ? LoopbackPort.Free() : 0)).ToArray();
    }

    /// <summary>Gets the client URLs of every node, comma-separated, as <c>Evothesis:Nats:Url</c> takes them.</summary>
    public string Url => string.Join(",", _nodes.Select(n => n.ClientUrl));

    /// <summary>Gets the number of nodes.</summary>
    public int Size => _nodes.Length;

    /// <summary>Starts <paramref name="size"/> servers (a cluster when more than one) and waits until JetStream answers.</summary>
    public static async Task<NatsTestCluster> StartAsync(int size, CancellationToken cancellationToken)
    {
        var binary = FindBinary() ?? throw new InvalidOperationException(
            "nats-server was not found on the PATH (nor in /usr/sbin, /usr/bin). Run the tests with ./test.sh, which installs it, " +
            "or install it yourself: apt-get install -y nats-server.");
        var cluster = new NatsTestCluster(binary, size);
        try
        {
            foreach (var node in cluster._nodes)
            {
                cluster.Start(node);
            }

            await cluster.WaitForJetStreamAsync(cancellationToken);
            return cluster;
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }
    }

    /// <summary>Kills node <paramref name="index"/> with SIGKILL, as a lost machine would go, and waits until it is gone.</summary>
    public void Kill(int index)
    {
        var process = _nodes[index].Process ?? throw new InvalidOperationException($"Node {index} is not running.");
        process.Kill(entireProcessTree: true);
        process.WaitForExit();
        _nodes[index].Append("--- killed");
    }

    /// <summary>Starts node <paramref name="index"/> again on its ports and folder.</summary>
    public void Restart(int index) => Start(_nodes[index]);

    /// <summary>Waits until stream <paramref name="name"/> exists and has a leader (created by the hosts under test).</summary>
    public async Task WaitForStreamAsync(string name, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(StartTimeout);
        await using var connection = new NatsConnection(new NatsOpts { Url = Url, RequestTimeout = TimeSpan.FromSeconds(2) });
        var js = new NatsJSContext(connection);
        while (true)
        {
            try
            {
                var stream = await js.GetStreamAsync(name, cancellationToken: timeout.Token);
                if (Size == 1 || !string.IsNullOrEmpty(stream.Info.Cluster?.Leader))
                {
                    return;
                }
            }
            catch (OperationCanceledException) when (timeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
            {
                throw new TimeoutException($"Stream {name} had no leader within {StartTimeout}:\n{Output}");
            }
            catch (Exception ex) when (ex is NatsException or TimeoutException)
            {
                // Not created yet, or no leader elected yet.
            }

            await Task.Delay(100, timeout.Token);
        }
    }

    /// <summary>Gets what the servers wrote, for a failing test's message.</summary>
    public string Output => string.Join("\n", _nodes.Select(n => $"--- node {n.Index}:\n{n.Output}"));

    public async ValueTask DisposeAsync()
    {
        foreach (var node in _nodes)
        {
            if (node.Process is { HasExited: false } process)
            {
                process.Kill(entireProcessTree: true);
                await process.WaitForExitAsync();
            }

            node.Process?.Dispose();
        }

        _root.Dispose();
    }

    private static string? FindBinary()
    {
        var path = Environment.GetEnvironmentVariable("PATH") ?? string.Empty;
        return path.Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Concat(["/usr/sbin", "/usr/bin", "/usr/local/bin"])
            .Select(d => Path.Combine(d, "nats-server"))
            .FirstOrDefault(File.Exists);
    }


    private void Start(Node node)
    {
        if (node.Process is { HasExited: false })
        {
            throw new InvalidOperationException($"Node {node.Index} is already running.");
        }

        node.Process?.Dispose();
        var start = new ProcessStartInfo(_binary)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        var folder = Path.Combine(_root.Path, "n" + node.Index.ToString(CultureInfo.InvariantCulture));
        start.ArgumentList.Add("-a");
        start.ArgumentList.Add("127.0.0.1");
        start.ArgumentList.Add("-p");
        start.ArgumentList.Add(node.ClientPort.ToString(CultureInfo.InvariantCulture));
        start.ArgumentList.Add("-n");
        start.ArgumentList.Add("n" + node.Index.ToString(CultureInfo.InvariantCulture));
        start.ArgumentList.Add("-js");
        start.ArgumentList.Add("-sd");
        start.ArgumentList.Add(folder);
        if (_nodes.Length > 1)
        {
            start.ArgumentList.Add("--cluster_name");
            start.ArgumentList.Add("c1");
            start.ArgumentList.Add("--cluster");
            start.ArgumentList.Add($"nats://127.0.0.1:{node.ClusterPort.ToString(CultureInfo.InvariantCulture)}");
            start.ArgumentList.Add("--routes");
            start.ArgumentList.Add(string.Join(",", _nodes.Select(n => $"nats://127.0.0.1:{n.ClusterPort.ToString(CultureInfo.InvariantCulture)}")));
        }

        var process = new Process { StartInfo = start };
        process.OutputDataReceived += (_, e) => node.Append(e.Data);
        process.ErrorDataReceived += (_, e) => node.Append(e.Data);
        node.Append("--- start");
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        node.Process = process;
    }

    // JetStream answers an account request once the servers are up and (for a cluster) the metadata leader is elected.
    private async Task WaitForJetStreamAsync(CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(StartTimeout);
        await using var connection = new NatsConnection(new NatsOpts { Url = Url, RequestTimeout = TimeSpan.FromSeconds(1) });
        var js = new NatsJSContext(connection);
        while (true)
        {
            foreach (var node in _nodes)
            {
                if (node.Process!.HasExited)
                {
                    throw new InvalidOperationException($"nats-server node {node.Index} exited with {node.Process.ExitCode} while starting:\n{Output}");
                }
            }

            try
            {
                await js.GetAccountInfoAsync(timeout.Token);
                return;
            }
            catch (OperationCanceledException) when (timeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
            {
                throw new TimeoutException($"JetStream did not answer within {StartTimeout}:\n{Output}");
            }
            catch (Exception ex) when (ex is NatsException or TimeoutException)
            {
                await Task.Delay(100, timeout.Token);
            }
        }
    }

    private sealed class Node(int index, int clientPort, int clusterPort)
    {
        private readonly StringBuilder _output = new();

        public int Index { get; } = index;

        public int ClientPort { get; } = clientPort;

        public int ClusterPort { get; } = clusterPort;

        public string ClientUrl => $"nats://127.0.0.1:{ClientPort.ToString(CultureInfo.InvariantCulture)}";

        public Process? Process { get; set; }

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

        public void Append(string? line)
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
}
