namespace Evothesis.Collector.Privacy.Internal;

/// <summary>
/// Collects what the redaction of one request changed: counts per rule for metrics and, for clients whose
/// requests are audited, the distinct locations (<c>email:event_data.message</c>), never values.
/// </summary>
internal sealed class RedactionRecorder(bool collectLocations)
{
    /// <summary>The most distinct locations one audit record lists.</summary>
    public const int MaxLocations = 256;

    private readonly int[] _counts = new int[PiiKinds.Count];
    private HashSet<string>? _locations;
    private List<string>? _ordered;

    /// <summary>Gets a value indicating whether locations are collected.</summary>
    public bool CollectLocations { get; } = collectLocations;

    /// <summary>Gets the number of values redacted, all rules together.</summary>
    public int Total { get; private set; }

    /// <summary>Gets the distinct locations, in the order first seen.</summary>
    public IReadOnlyList<string> Locations => (IReadOnlyList<string>?)_ordered ?? [];

    /// <summary>Gets how many values a rule redacted.</summary>
    public int Count(PiiKind kind) => _counts[(int)kind];

    /// <summary>Records one redacted value.</summary>
    /// <param name="mask">The kinds redacted in it, as bits.</param>
    /// <param name="path">Where it is, when locations are collected.</param>
    public void Record(int mask, string? path)
    {
        for (var kind = 0; kind < PiiKinds.Count; kind++)
        {
            if ((mask & (1 << kind)) == 0)
            {
                continue;
            }

            _counts[kind]++;
            Total++;
            if (CollectLocations && path is not null)
            {
                AddLocation(PiiKinds.Name((PiiKind)kind) + ":" + path);
            }
        }
    }

    private void AddLocation(string location)
    {
        _locations ??= new HashSet<string>(StringComparer.Ordinal);
        _ordered ??= [];
        if (_ordered.Count < MaxLocations && _locations.Add(location))
        {
            _ordered.Add(location);
        }
    }
}
