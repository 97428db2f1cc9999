using System.Text.Json;
using System.Text.RegularExpressions;

namespace Evothesis.Collector.Tests.Support;

/// <summary>Reads what the development pixel's server wrote into a tracking script.</summary>
internal static partial class PixelScripts
{
    /// <summary>The configuration object the server wrote into the script.</summary>
    public static JsonDocument EmbeddedConfig(string script)
    {
        var match = ServedConfig().Match(script);
        match.Success.Should().BeTrue("the script embeds its configuration as 'var SERVED = {...};'");
        return JsonDocument.Parse(match.Groups[1].Value);
    }

    [GeneratedRegex(@"var SERVED = (\{.*?\});\n")]
    private static partial Regex ServedConfig();
}
