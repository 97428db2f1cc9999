namespace Evothesis.Collector.Replay;

/// <summary>The entry point: <c>dotnet run --project samples/Evothesis.Collector.Replay -- --target ... </c>.</summary>
internal static class Program
{
    private static async Task<int> Main(string[] args)
    {
        using var stop = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) =>
        {
            // The first Ctrl+C stops after the current object; a second one ends the process.
            e.Cancel = !stop.IsCancellationRequested;
            stop.Cancel();
        };

        return await ReplayCommand.RunAsync(args, Console.Out, cancellationToken: stop.Token);
    }
}
