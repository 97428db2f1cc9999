using System.Diagnostics.CodeAnalysis;
using System.Globalization;

namespace Evothesis.Collector.Replay;

/// <summary>The parsed command line of <c>evothesis-replay</c>.</summary>
internal sealed class ReplayArguments
{
    public string Source { get; private set; } = "backup";

    public string Target { get; private set; } = string.Empty;

    public List<string> Clients { get; } = [];

    public DateTimeOffset? From { get; private set; }

    public DateTimeOffset? To { get; private set; }

    public bool SkipInvalid { get; private set; }

    public bool DryRun { get; private set; }

    /// <summary>Gets a value indicating whether the source is the records sinks refused for good, parked beside the spool.</summary>
    public bool IsParked => Source == ReplayCommand.ParkedSource;

    /// <summary>Parses the arguments; <paramref name="error"/> is <see langword="null"/> when help was asked for.</summary>
    public static bool TryParse(string[] args, [NotNullWhen(true)] out ReplayArguments? arguments, out string? error)
    {
        arguments = null;
        error = null;
        var parsed = new ReplayArguments();
        for (var i = 0; i < args.Length; i++)
        {
            var name = args[i];
            switch (name)
            {
                case "--help" or "-h":
                    return false;
                case "--skip-invalid":
                    parsed.SkipInvalid = true;
                    continue;
                case "--dry-run":
                    parsed.DryRun = true;
                    continue;
            }

            if (i + 1 >= args.Length || string.IsNullOrWhiteSpace(args[i + 1]))
            {
                error = $"{name} needs a value.";
                return false;
            }

            var value = args[++i];
            switch (name)
            {
                case "--source":
                    parsed.Source = value;
                    break;
                case "--target":
                    parsed.Target = value;
                    break;
                case "--client":
                    parsed.Clients.Add(value);
                    break;
                case "--from" or "--to":
                    if (!TryParseTime(value, out var time))
                    {
                        error = $"{name} '{value}' is not a date or time (use 2026-11-26 or 2026-11-26T10:00Z; times without an offset are UTC).";
                        return false;
                    }

                    if (name == "--from")
                    {
                        parsed.From = time;
                    }
                    else
                    {
                        parsed.To = time;
                    }

                    break;
                default:
                    error = $"unknown option '{name}'.";
                    return false;
            }
        }

        if (parsed.Target.Length == 0 && !parsed.IsParked)
        {
            error = "--target is required (except with --source parked).";
            return false;
        }

        if (parsed.IsParked && (parsed.Clients.Count > 0 || parsed.From is not null || parsed.To is not null || parsed.SkipInvalid))
        {
            error = "--source parked replays whole parked files: --client, --from, --to and --skip-invalid do not apply.";
            return false;
        }

        if (parsed.From is { } from && parsed.To is { } to && to <= from)
        {
            error = $"--to ({to:O}) must be after --from ({from:O}).";
            return false;
        }

        arguments = parsed;
        return true;
    }

    private static bool TryParseTime(string value, out DateTimeOffset time) =>
        DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out time);
}
