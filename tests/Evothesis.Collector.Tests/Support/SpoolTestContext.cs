using Evothesis.Collector.Diagnostics;
using Evothesis.Collector.Spool;
using Evothesis.Collector.Spool.Internal;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Time.Testing;

namespace Evothesis.Collector.Tests.Support;

/// <summary>A temp spool folder, a fake clock, test meters and logs, and every spool opened on them.</summary>
internal sealed class SpoolTestContext : IAsyncDisposable
{
    public static readonly TimeSpan Deadline = TimeSpan.FromSeconds(10);

    private readonly TestMeterFactory _meters = new();
    private readonly List<WriteAheadSpool> _opened = [];

    public SpoolTestContext()
    {
        Metrics = new SpoolMetrics(new CollectorMetrics(_meters));
        SpoolPath = System.IO.Path.Combine(Directory.Path, "spool");
    }

    public TempDirectory Directory { get; } = new();

    public string SpoolPath { get; set; }

    public FakeTimeProvider Time { get; } = new(new DateTimeOffset(2026, 11, 26, 12, 0, 0, TimeSpan.Zero));

    public FakeLogger Logger { get; } = new();

    public TestSpoolFileSystem Files { get; } = new();

    public SpoolMetrics Metrics { get; }

    public SpoolOptions Options { get; } = new() { MinFreeDiskBytes = 0 };

    public string[] Consumers { get; set; } = ["postgresql", "s3-client"];

    /// <summary>Gets or sets how the spool counts a record's events; null counts records.</summary>
    public Func<ReadOnlySpan<byte>, int>? CountEvents { get; set; }

    public WriteAheadSpool Open()
    {
        var spool = WriteAheadSpool.Open(SpoolPath, Options, Consumers, Time, Metrics, Logger, Files, CountEvents);
        _opened.Add(spool);
        return spool;
    }

    /// <summary>Stops a spool and opens the folder again, as a restart would.</summary>
    public async Task<WriteAheadSpool> ReopenAsync(WriteAheadSpool spool)
    {
        await spool.DisposeAsync();
        return Open();
    }

    public MetricCollector<T> Collect<T>(string instrument)
        where T : struct =>
        new(_meters, CollectorMetrics.MeterName, instrument);

    public string[] Segments() =>
        System.IO.Directory.GetFiles(SpoolPath, "*" + SpoolFormat.SegmentExtension).Order(StringComparer.Ordinal).ToArray();

    public static byte[] Payload(int length, int seed)
    {
        var payload = new byte[length];
        new Random(seed).NextBytes(payload);
        return payload;
    }

    public static async Task<List<SpoolRecord>> ReadAllAsync(WriteAheadSpool spool, string consumer)
    {
        using var reader = spool.OpenReader(consumer);
        var records = new List<SpoolRecord>();
        while (spool.Locate(reader.Position).Segment is not null)
        {
            using var timeout = new CancellationTokenSource(Deadline);
            var batch = await reader.ReadAsync(1000, 1 << 20, timeout.Token);
            records.AddRange(batch.Records);
        }

        return records;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var spool in _opened)
        {
            await spool.DisposeAsync();
        }

        _meters.Dispose();
        Directory.Dispose();
    }
}
