using System.Globalization;
using System.Text;
using System.Text.Json;
using ScottPlot;

// Usage: Evothesis.Collector.Benchmarks.Chart <BenchmarkDotNet results folder> <benchmarks folder>
// Reads the *-report-full.json of the PostgreSQL suites, writes <benchmarks>/postgresql-sink.png, copies the
// reports to <benchmarks>/results/, and replaces the results section of <benchmarks>/README.md.
if (args.Length != 2)
{
    Console.Error.WriteLine("usage: Evothesis.Collector.Benchmarks.Chart <results folder> <benchmarks folder>");
    return 2;
}

var resultsFolder = args[0];
var benchmarksFolder = args[1];
var reports = Directory.GetFiles(resultsFolder, "*PostgreSql*-report-full.json");
if (reports.Length == 0)
{
    Console.Error.WriteLine($"No PostgreSQL benchmark reports (*PostgreSql*-report-full.json) in {resultsFolder}.");
    return 1;
}

var rows = new List<Row>();
string machine = "";
foreach (var report in reports.Order(StringComparer.Ordinal))
{
    using var json = JsonDocument.Parse(File.ReadAllBytes(report));
    var host = json.RootElement.GetProperty("HostEnvironmentInfo");
    machine = $"{host.GetProperty("OsVersion").GetString()}, {host.GetProperty("ProcessorName").GetString()?.Trim()}, " +
        $"{host.GetProperty("LogicalCoreCount").GetInt32()} logical cores, {host.GetProperty("RuntimeVersion").GetString()}, " +
        $"BenchmarkDotNet {host.GetProperty("BenchmarkDotNetVersion").GetString()}";
    foreach (var benchmark in json.RootElement.GetProperty("Benchmarks").EnumerateArray())
    {
        if (!benchmark.TryGetProperty("Statistics", out var statistics) || statistics.ValueKind != JsonValueKind.Object)
        {
            continue;
        }

        var batchSize = int.Parse(benchmark.GetProperty("Parameters").GetString()!.Split('=')[1], CultureInfo.InvariantCulture);
        var bytes = benchmark.GetProperty("Memory").GetProperty("BytesAllocatedPerOperation").GetDouble();
        rows.Add(new Row(
            benchmark.GetProperty("Method").GetString()!,
            batchSize,
            statistics.GetProperty("Mean").GetDouble(),
            statistics.GetProperty("StandardError").GetDouble(),
            bytes));
    }

    Directory.CreateDirectory(Path.Combine(benchmarksFolder, "results"));
    File.Copy(report, Path.Combine(benchmarksFolder, "results", Path.GetFileName(report)[(Path.GetFileName(report).IndexOf("PostgreSql", StringComparison.Ordinal))..]), overwrite: true);
}

string[] order = ["PerEventInsert", "SinkWrite", "SinkWriteTwoConnections", "TwoBatchesAtOnce", "RawCopy", "PlainCopy", "StagingUpsert", "SinkRewrite"];
var methods = order.Where(m => rows.Any(r => r.Method == m)).ToArray();
var sizes = rows.Select(r => r.BatchSize).Distinct().Order().ToArray();

// Chart: events/s by batch size, both axes logarithmic (ScottPlot plots log10 of the values with matching labels).
var plot = new Plot();
var palette = new ScottPlot.Palettes.Category10();
for (var i = 0; i < methods.Length; i++)
{
    var points = rows.Where(r => r.Method == methods[i]).OrderBy(r => r.BatchSize).ToArray();
    var scatter = plot.Add.Scatter(
        points.Select(p => Math.Log10(p.BatchSize)).ToArray(),
        points.Select(p => Math.Log10(p.EventsPerSecond)).ToArray());
    scatter.LegendText = Label(methods[i]);
    scatter.Color = palette.GetColor(i);
    scatter.LineWidth = methods[i] == "SinkWrite" ? 3 : 1.5f;
    scatter.MarkerSize = 7;
}

static string Pow10(double value)
{
    var number = Math.Pow(10, value);
    return number >= 1000 ? (number / 1000).ToString("0.#", CultureInfo.InvariantCulture) + "k" : number.ToString("0.#", CultureInfo.InvariantCulture);
}

plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual(
    sizes.Select(s => Math.Log10(s)).ToArray(), sizes.Select(s => s.ToString(CultureInfo.InvariantCulture)).ToArray());
var yMin = Math.Floor(Math.Log10(rows.Min(r => r.EventsPerSecond)));
var yMax = Math.Ceiling(Math.Log10(rows.Max(r => r.EventsPerSecond)));
var yTicks = Enumerable.Range((int)yMin, (int)(yMax - yMin) + 1).Select(v => (double)v).ToArray();
plot.Axes.Left.TickGenerator = new ScottPlot.TickGenerators.NumericManual(yTicks, yTicks.Select(Pow10).ToArray());
plot.Axes.SetLimitsY(yMin, yMax);
plot.Title("PostgreSQL: events written per second by batch size (log-log)");
plot.XLabel("Events per batch");
plot.YLabel("Events per second");
plot.ShowLegend(Alignment.UpperLeft);
var png = Path.Combine(benchmarksFolder, "postgresql-sink.png");
plot.SavePng(png, 1000, 620);

// Table: events/s per method and batch size, and the gain over one INSERT per event.
var table = new StringBuilder();
table.AppendLine(CultureInfo.InvariantCulture, $"Machine: {machine}.");
table.AppendLine();
table.Append("| Events per batch |");
foreach (var m in methods)
{
    table.Append(CultureInfo.InvariantCulture, $" {Label(m)} |");
}

table.AppendLine(" Sink ÷ per-event | Two connections ÷ per-event | Two at once ÷ per-event | Sink ÷ raw COPY |");
table.Append("|---:|");
table.Append(string.Concat(Enumerable.Repeat("---:|", methods.Length + 4)));
table.AppendLine();
foreach (var size in sizes)
{
    table.Append(CultureInfo.InvariantCulture, $"| {size} |");
    foreach (var m in methods)
    {
        var row = rows.SingleOrDefault(r => r.Method == m && r.BatchSize == size);
        table.Append(row is null ? " – |" : $" {row.EventsPerSecond.ToString("N0", CultureInfo.InvariantCulture)} ({row.BytesPerEvent.ToString("N0", CultureInfo.InvariantCulture)} B) |");
    }

    table.Append(CultureInfo.InvariantCulture, $" {Ratio("SinkWrite", "PerEventInsert", size)} | {Ratio("SinkWriteTwoConnections", "PerEventInsert", size)} | {Ratio("TwoBatchesAtOnce", "PerEventInsert", size)} | {Ratio("SinkWrite", "RawCopy", size)} |");
    table.AppendLine();
}

table.AppendLine();
var creation = rows.Where(r => r.Method == "CreateEvents").Select(r => r.BytesPerEvent).DefaultIfEmpty(double.NaN).Max();
table.AppendLine("Each cell: events per second (mean of the measured iterations), and in brackets bytes allocated per event, " +
    "including the benchmark's own creation of the events" +
    (double.IsNaN(creation) ? "." : $" ({creation.ToString("N0", CultureInfo.InvariantCulture)} B per event at most, measured on its own)."));
var bestSink = rows.Where(r => r.Method == "SinkWrite").MaxBy(r => r.EventsPerSecond)!;
var bestSplit = rows.Where(r => r.Method == "SinkWriteTwoConnections").MaxBy(r => r.EventsPerSecond);
var bestTwo = rows.Where(r => r.Method == "TwoBatchesAtOnce").MaxBy(r => r.EventsPerSecond);
var perEvent = rows.Where(r => r.Method == "PerEventInsert").ToArray();
var perEventRate = perEvent.Length == 0 ? double.NaN : perEvent.Average(r => r.EventsPerSecond);
var headline = perEvent.Length == 0 ? "" :
    $"**Headline: the sink writes {bestSink.EventsPerSecond.ToString("N0", CultureInfo.InvariantCulture)} events/s at " +
    $"{bestSink.BatchSize} events per batch, {(bestSink.EventsPerSecond / perEventRate).ToString("N0", CultureInfo.InvariantCulture)}× " +
    $"the {perEventRate.ToString("N0", CultureInfo.InvariantCulture)} events/s of one autocommit INSERT per event " +
    "(averaged over its batch sizes, which do not change its per-event cost)" +
    (bestSplit is null ? "" :
        $"; with two write connections it reaches {bestSplit.EventsPerSecond.ToString("N0", CultureInfo.InvariantCulture)} events/s " +
        $"at {bestSplit.BatchSize} events per batch, {(bestSplit.EventsPerSecond / perEventRate).ToString("N0", CultureInfo.InvariantCulture)}×") +
    (bestTwo is null ? "" :
        $"; two batches written at once reach {bestTwo.EventsPerSecond.ToString("N0", CultureInfo.InvariantCulture)} events/s " +
        $"at {bestTwo.BatchSize} events per batch, {(bestTwo.EventsPerSecond / perEventRate).ToString("N0", CultureInfo.InvariantCulture)}×") +
    ".**";
table.AppendLine();
table.AppendLine(headline);

var readme = Path.Combine(benchmarksFolder, "README.md");
const string Start = "<!-- postgresql-results:start -->";
const string End = "<!-- postgresql-results:end -->";
var text = File.Exists(readme) ? File.ReadAllText(readme) : "";
var section = $"{Start}\n{table.ToString().Replace("\r\n", "\n", StringComparison.Ordinal)}{End}";
var startAt = text.IndexOf(Start, StringComparison.Ordinal);
var endAt = text.IndexOf(End, StringComparison.Ordinal);
text = startAt >= 0 && endAt > startAt
    ? text[..startAt] + section + text[(endAt + End.Length)..]
    : text + "\n" + section + "\n";
File.WriteAllText(readme, text);

Console.WriteLine($"Wrote {png} and the results table in {readme}.");
Console.WriteLine(headline);
return 0;

string Ratio(string method, string baseline, int size)
{
    var a = rows.SingleOrDefault(r => r.Method == method && r.BatchSize == size);
    var b = rows.SingleOrDefault(r => r.Method == baseline && r.BatchSize == size);
    return a is null || b is null ? "–" : (a.EventsPerSecond / b.EventsPerSecond).ToString("0.##", CultureInfo.InvariantCulture) + "×";
}

static string Label(string method) => method switch
{
    "PerEventInsert" => "INSERT per event",
    "SinkWrite" => "Sink write",
    "SinkWriteTwoConnections" => "Sink write, two connections",
    "TwoBatchesAtOnce" => "Two batches at once",
    "RawCopy" => "Raw COPY",
    "PlainCopy" => "COPY, no keys",
    "StagingUpsert" => "Staging + ON CONFLICT",
    "SinkRewrite" => "Sink rewrite (all duplicates)",
    _ => method,
};

internal sealed record Row(string Method, int BatchSize, double MeanNanoseconds, double StandardErrorNanoseconds, double BytesPerOperation)
{
    public double EventsPerSecond => BatchSize / (MeanNanoseconds / 1e9);

    public double BytesPerEvent => BytesPerOperation / BatchSize;
}
