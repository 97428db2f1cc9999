using System.Text.Json;
using Microsoft.Extensions.Options;

namespace Evothesis.Collector.Sample.Clients;

/// <summary>
/// Stops the sample from starting in Production with the demo clients file (<c>clients.json</c> next to the sample),
/// whose salts are published in the repository: IPs "hashed" with them could be reversed by anyone. Also stops it when
/// no clients source is configured at all. Development keeps its zero set-up.
/// </summary>
internal static class DemoClientsCheck
{
    /// <summary>The salts of the demo clients file. The demo file is recognised by them, whatever its name or place.</summary>
    public static readonly IReadOnlySet<string> DemoSalts = new HashSet<string>(StringComparer.Ordinal)
    {
        "sample-salt-acme-2f9c41d7e0b3",
        "sample-salt-clinic-7d03be91a4c6",
    };

    private const string WhatToSet =
        "Set Evothesis:Authorization:ClientsFile (environment variable Evothesis__Authorization__ClientsFile) to a clients file of " +
        "your own, with salts of your own, or PIXEL_MANAGEMENT_URL (or Evothesis:Authorization:PixelManagementUrl) to authorize " +
        "domains with pixel-management.";

    /// <summary>Throws in Production when the clients source is the demo file or missing.</summary>
    /// <param name="app">The application, built.</param>
    /// <exception cref="InvalidOperationException">The sample would run in Production with demo secrets or no clients.</exception>
    public static void ThrowIfDemoClientsInProduction(this WebApplication app)
    {
        if (!app.Environment.IsProduction())
        {
            return;
        }

        var authorization = app.Services.GetRequiredService<IOptions<CollectorOptions>>().Value.Authorization;
        if (!string.IsNullOrWhiteSpace(authorization.PixelManagementUrl))
        {
            return;
        }

        var path = Path.GetFullPath(Path.Combine(app.Environment.ContentRootPath, authorization.ClientsFile));
        if (!File.Exists(path))
        {
            throw new InvalidOperationException(
                $"No clients source is configured for Production: the clients file '{path}' does not exist and pixel-management " +
                $"is not configured, so every domain would be refused. {WhatToSet}");
        }

        if (UsesDemoSalts(path))
        {
            throw new InvalidOperationException(
                $"The clients file '{path}' is the sample's demo file, whose salts are published: the sample does not start with it " +
                $"in Production. {WhatToSet}");
        }
    }

    /// <summary>Tells whether a clients file configures any client with a demo salt.</summary>
    /// <param name="path">The clients file.</param>
    /// <returns><see langword="true"/> when a <c>salt</c> anywhere in the file is one of <see cref="DemoSalts"/>.</returns>
    internal static bool UsesDemoSalts(string path)
    {
        JsonDocument document;
        try
        {
            using var stream = File.OpenRead(path);
            document = JsonDocument.Parse(stream, new JsonDocumentOptions { AllowTrailingCommas = true, CommentHandling = JsonCommentHandling.Skip });
        }
        catch (JsonException)
        {
            // Not this check's business: the collector refuses a clients file that is not valid JSON when it starts.
            return false;
        }

        using (document)
        {
            return HasDemoSalt(document.RootElement);
        }
    }

    private static bool HasDemoSalt(JsonElement element)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                foreach (var property in element.EnumerateObject())
                {
                    if ((property.NameEquals("salt") && property.Value.ValueKind == JsonValueKind.String && DemoSalts.Contains(property.Value.GetString()!))
                        || HasDemoSalt(property.Value))
                    {
                        return true;
                    }
                }

                return false;
            case JsonValueKind.Array:
                foreach (var item in element.EnumerateArray())
                {
                    if (HasDemoSalt(item))
                    {
                        return true;
                    }
                }

                return false;
            default:
                return false;
        }
    }
}
