using System.Globalization;
using System.Text;
using System.Text.Json;
using ScottPlot;

// Usage: Evothesis.Collector.Benchmarks.Chart <BenchmarkDotNet results folder> <benchmarks folder>
// Reads the *-report-full.json of the PostgreSQL suites, writes <benchmarks>/postgresql-sink.png (events/s by batch size,
// and by batches in flight), copies the reports to <benchmarks>/results/, and replaces the results section of
// <benchmarks>/README.md.
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

        // "BatchSize=1000&InFlight=4"
        var parameters = benchmark.GetProperty("Parameters").GetString()!.Split('&')
            .Select(p => p.Split('='))
            .ToDictionary(p => p[0], p => int.Parse(p[1], CultureInfo.InvariantCulture), StringComparer.Ordinal);
        rows.Add(new Row(
            benchmark.GetProperty("Method").GetString()!,
            parameters["BatchSize"],
            parameters.GetValueOrDefault("InFlight", parameters.GetValueOrDefault("MaxInFlight", 0)),
            statistics.GetProperty("Mean").GetDouble(),
            benchmark.GetProperty("Memory").GetProperty("BytesAllocatedPerOperation").GetDouble()));
    }

    Directory.CreateDirectory(Path.Combine(benchmarksFolder, "results"));
    File.Copy(report, Path.Combine(benchmarksFolder, "results", Path.GetFileName(report)[(Path.GetFileName(report).IndexOf("PostgreSql", StringComparison.Ordinal))..]), overwrite: true);
}

var bySize = rows.Where(r => r.InFlight == 0 && !IsBaseline(r.Method) && r.Method != "SpoolConsumer").ToArray();
var byInFlight = rows.Where(r => r.InFlight > 0).ToArray();
string[] sizeOrder = ["SinkWrite", "RawCopy", "PlainCopy", "StagingUpsert", "SinkRewrite"];
var sizeMethods = sizeOrder.Where(m => bySize.Any(r => r.Method == m)).ToArray();
string[] inFlightOrder = ["SpoolConsumer", "SinkWritesInFlight", "RawCopiesInFlight"];
var inFlightMethods = inFlightOrder.Where(m => byInFlight.Any(r => r.Method == m)).ToArray();
var sizes = bySize.Select(r => r.BatchSize).Distinct().Order().ToArray();
var perEvent = Rate("PerEventInsert");
var perEvent32 = Rate("PerEventInsert32Connections");
var palette = new ScottPlot.Palettes.Category10();

// Left: events/s by batch size, both axes logarithmic (ScottPlot plots log10 of the values with matching labels); the
// per-event baselines, which have no batch, as horizontal lines. Right: events/s by batches in flight.
var multiplot = new Multiplot();
multiplot.AddPlots(2);
multiplot.Layout = new ScottPlot.MultiplotLayouts.Columns();
var left = multiplot.GetPlot(0);
var yMin = Math.Floor(Math.Log10(rows.Min(r => r.EventsPerSecond)));
var yMax = Math.Ceiling(Math.Log10(rows.Max(r => r.EventsPerSecond)));
var yTicks = Enumerable.Range((int)yMin, (int)(yMax - yMin) + 1).Select(v => (double)v).ToArray();
for (var i = 0; i < sizeMethods.Length; i++)
{
    var points = bySize.Where(r => r.Method == sizeMethods[i]).OrderBy(r => r.BatchSize).ToArray();
    var scatter = left.Add.Scatter(points.Select(p => Math.Log10(p.BatchSize)).ToArray(), points.Select(p => Math.Log10(p.EventsPerSecond)).ToArray());
    scatter.LegendText = Label(sizeMethods[i]);
    scatter.Color = palette.GetColor(i);
    scatter.LineWidth = sizeMethods[i] == "SinkWrite" ? 3 : 1.5f;
    scatter.MarkerSize = 7;
}

var baselineColor = sizeMethods.Length;
foreach (var (method, rate) in new[] { ("PerEventInsert", perEvent), ("PerEventInsert32Connections", perEvent32) })
{
    if (!double.IsNaN(rate))
    {
        var line = left.Add.HorizontalLine(Math.Log10(rate));
        line.LegendText = Label(method);
        line.Color = palette.GetColor(baselineColor++);
        line.LinePattern = LinePattern.Dashed;
    }
}

left.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual(
    sizes.Select(s => Math.Log10(s)).ToArray(), sizes.Select(s => s.ToString(CultureInfo.InvariantCulture)).ToArray());
left.Axes.Left.TickGenerator = new ScottPlot.TickGenerators.NumericManual(yTicks, yTicks.Select(Pow10).ToArray());
left.Axes.SetLimitsY(yMin, yMax);
left.Title("Events/s by batch size (log-log)");
left.XLabel("Events per batch");
left.YLabel("Events per second");
left.ShowLegend(Alignment.UpperLeft);

var right = multiplot.GetPlot(1);
var inFlights = byInFlight.Select(r => r.InFlight).Distinct().Order().ToArray();
for (var i = 0; i < inFlightMethods.Length; i++)
{
    var points = byInFlight.Where(r => r.Method == inFlightMethods[i]).OrderBy(r => r.InFlight).ToArray();
    var scatter = right.Add.Scatter(points.Select(p => (double)p.InFlight).ToArray(), points.Select(p => p.EventsPerSecond / 1000).ToArray());
    scatter.LegendText = Label(inFlightMethods[i]) + (inFlightMethods[i] == "SpoolConsumer" ? "" : $" ({points.FirstOrDefault()?.BatchSize}-event batches)");
    scatter.Color = palette.GetColor(i + 5);
    scatter.LineWidth = inFlightMethods[i] == "SpoolConsumer" ? 3 : 1.5f;
    scatter.MarkerSize = 7;
}

right.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual(
    inFlights.Select(s => (double)s).ToArray(), inFlights.Select(s => s.ToString(CultureInfo.InvariantCulture)).ToArray());
right.Axes.SetLimitsY(0, byInFlight.Select(r => r.EventsPerSecond / 1000).DefaultIfEmpty(1).Max() * 1.15);
right.Title("Events/s by batches in flight");
right.XLabel("Batches (COPYs, connections) in flight");
right.YLabel("Thousand events per second");
right.ShowLegend(Alignment.LowerRight);
var png = Path.Combine(benchmarksFolder, "postgresql-sink.png");
multiplot.SavePng(png, 1400, 620);

// Tables.
var table = new StringBuilder();
var n0 = CultureInfo.InvariantCulture;
table.AppendLine(n0, $"Machine: {machine}.");
table.AppendLine();
table.AppendLine(n0, $"Per-event baseline (autocommit INSERT, prepared, one open connection): **{Format(perEvent)} events/s**; " +
    $"from 32 connections at once: **{Format(perEvent32)} events/s**.");
table.AppendLine();
table.Append("| Events per batch |");
foreach (var m in sizeMethods)
{
    table.Append(n0, $" {Label(m)} |");
}

table.AppendLine(" Sink ÷ per-event | Sink ÷ per-event, 32 connections | Sink ÷ raw COPY |");
table.Append("|---:|");
table.Append(string.Concat(Enumerable.Repeat("---:|", sizeMethods.Length + 3)));
table.AppendLine();
foreach (var size in sizes)
{
    table.Append(n0, $"| {size} |");
    foreach (var m in sizeMethods)
    {
        var row = bySize.SingleOrDefault(r => r.Method == m && r.BatchSize == size);
        table.Append(row is null ? " – |" : $" {Format(row.EventsPerSecond)} ({row.BytesPerEvent.ToString("N0", n0)} B) |");
    }

    var sink = bySize.SingleOrDefault(r => r.Method == "SinkWrite" && r.BatchSize == size)?.EventsPerSecond ?? double.NaN;
    var raw = bySize.SingleOrDefault(r => r.Method == "RawCopy" && r.BatchSize == size)?.EventsPerSecond ?? double.NaN;
    table.AppendLine(n0, $" {Times(sink / perEvent)} | {Times(sink / perEvent32)} | {Times(sink / raw)} |");
}

table.AppendLine();
table.AppendLine("Each cell: events per second (mean of the measured iterations), and in brackets bytes allocated per event, " +
    "including the benchmark's own creation of the events.");
if (inFlightMethods.Length > 0)
{
    table.AppendLine();
    table.Append("| Batches in flight |");
    foreach (var m in inFlightMethods)
    {
        table.Append(n0, $" {Label(m)} |");
    }

    table.AppendLine(" ÷ per-event (first column) | ÷ per-event, 32 connections (first column) |");
    table.Append("|---:|");
    table.Append(string.Concat(Enumerable.Repeat("---:|", inFlightMethods.Length + 2)));
    table.AppendLine();
    foreach (var inFlight in inFlights)
    {
        table.Append(n0, $"| {inFlight} |");
        foreach (var m in inFlightMethods)
        {
            var row = byInFlight.SingleOrDefault(r => r.Method == m && r.InFlight == inFlight);
            table.Append(row is null ? " – |" : $" {Format(row.EventsPerSecond)} |");
        }

        var first = byInFlight.SingleOrDefault(r => r.Method == inFlightMethods[0] && r.InFlight == inFlight)?.EventsPerSecond ?? double.NaN;
        table.AppendLine(n0, $" {Times(first / perEvent)} | {Times(first / perEvent32)} |");
    }
}

var consumer = rows.Where(r => r.Method == "SpoolConsumer").ToArray();
var bestSink = bySize.Where(r => r.Method == "SinkWrite").MaxBy(r => r.EventsPerSecond);
var headline = new StringBuilder("**Headline: ");
if (consumer.Length > 0)
{
    var atDefault = consumer.FirstOrDefault(r => r.InFlight == DefaultMaxInFlight) ?? consumer[0];
    headline.Append(n0, $"the spool consumer at its default settings (batches of what waits up to 5000 events, {atDefault.InFlight} in flight) " +
        $"delivers a backlog at {Format(atDefault.EventsPerSecond)} events/s: {Times(atDefault.EventsPerSecond / perEvent)} the per-event INSERT " +
        $"and {Times(atDefault.EventsPerSecond / perEvent32)} the per-event INSERT from 32 connections; ");
}

if (bestSink is not null)
{
    headline.Append(n0, $"one sink write reaches {Format(bestSink.EventsPerSecond)} events/s at {bestSink.BatchSize} events per batch " +
        $"({Times(bestSink.EventsPerSecond / perEvent)} and {Times(bestSink.EventsPerSecond / perEvent32)}).");
}

headline.Append("**");
table.AppendLine();
table.AppendLine(headline.ToString());

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

double Rate(string method) => rows.Where(r => r.Method == method).Select(r => r.EventsPerSecond).DefaultIfEmpty(double.NaN).Average();

static bool IsBaseline(string method) => method.StartsWith("PerEventInsert", StringComparison.Ordinal) || method == "CreateEvents";

static string Format(double value) => double.IsNaN(value) ? "–" : value.ToString("N0", CultureInfo.InvariantCulture);

static string Times(double value) => double.IsNaN(value) || double.IsInfinity(value) ? "–" : value.ToString("0.##", CultureInfo.InvariantCulture) + "×";

static string Pow10(double value)
{
    var number = Math.Pow(10, value);
    return number >= 1000 ? (number / 1000).ToString("0.#", CultureInfo.InvariantCulture) + "k" : number.ToString("0.#", CultureInfo.InvariantCulture);
}

static string Label(string method) => method switch
{
    "PerEventInsert" => "INSERT per event (prepared, one connection)",
    "PerEventInsert32Connections" => "INSERT per event, 32 connections",
    "SinkWrite" => "Sink write",
    "RawCopy" => "Raw COPY",
    "PlainCopy" => "COPY, no keys",
    "StagingUpsert" => "Staging + ON CONFLICT",
    "SinkRewrite" => "Sink rewrite (all duplicates)",
    "SinkWritesInFlight" => "Sink writes at once",
    "RawCopiesInFlight" => "Raw COPYs at once",
    "SpoolConsumer" => "Spool consumer, backlog",
    _ => method,
};

internal sealed record Row(string Method, int BatchSize, int InFlight, double MeanNanoseconds, double BytesPerOperation)
{
    // An operation of the in-flight suite writes InFlight batches; the consumer's operation is its whole backlog.
    private int EventsPerOperation => Method.EndsWith("InFlight", StringComparison.Ordinal) ? BatchSize * InFlight : BatchSize;

    public double EventsPerSecond => EventsPerOperation / (MeanNanoseconds / 1e9);

    public double BytesPerEvent => BytesPerOperation / EventsPerOperation;
}

internal static partial class Program
{
    private const int DefaultMaxInFlight = 4;
}
