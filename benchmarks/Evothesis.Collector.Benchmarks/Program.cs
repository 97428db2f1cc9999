using BenchmarkDotNet.Running;
using Evothesis.Collector.Benchmarks;

if (args.Length > 0 && args[0] == "--breakdown")
{
    PipelineBreakdown.Run(args[1..]);
    return;
}

BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);

/// <summary>
/// The benchmarks' entry point: <c>dotnet run -c Release -- --filter *</c>; <c>-- --breakdown Batch10 standard true</c>
/// for the request path stage by stage (<see cref="PipelineBreakdown"/>).
/// </summary>
public partial class Program;
