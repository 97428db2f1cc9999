namespace Evothesis.Collector.Sinks.ObjectStorage;

/// <summary>The local folder events are written to when no other sink is configured.</summary>
public sealed class StorageOptions
{
    /// <summary>
    /// Gets or sets the folder. Relative paths are resolved against the content root. The default is <c>data</c>.
    /// </summary>
    public string Path { get; set; } = "data";
}
