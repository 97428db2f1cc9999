using BenchmarkDotNet.Running;

BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);

/// <summary>The benchmarks' entry point: <c>dotnet run -c Release -- --filter *</c>.</summary>
public partial class Program;
