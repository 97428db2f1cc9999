using Microsoft.Extensions.Options;

namespace Evothesis.Collector.Privacy.Internal;

/// <summary>Checks <c>Evothesis:Privacy</c>; messages name the bad values.</summary>
internal sealed class PrivacyOptionsValidator : IValidateOptions<CollectorOptions>
{
    public ValidateOptionsResult Validate(string? name, CollectorOptions options)
    {
        var failures = new List<string>();
        CheckNames(failures, "Evothesis:Privacy:SecretKeys", options.Privacy.SecretKeys);
        CheckNames(failures, "Evothesis:Privacy:FormEventTypes", options.Privacy.FormEventTypes);
        CheckNames(failures, "Evothesis:Privacy:FormMetadataKeys", options.Privacy.FormMetadataKeys);
        return OptionsChecks.Result(failures);
    }

    private static void CheckNames(List<string> failures, string key, IList<string>? names)
    {
        if (names is null)
        {
            failures.Add($"{key} must not be null.");
            return;
        }

        for (var i = 0; i < names.Count; i++)
        {
            if (string.IsNullOrEmpty(names[i]) || KeyNameMatcher.Normalize(names[i]).Length == 0)
            {
                failures.Add($"{key}:{i} ('{names[i]}') must contain a letter or digit.");
            }
        }
    }
}
