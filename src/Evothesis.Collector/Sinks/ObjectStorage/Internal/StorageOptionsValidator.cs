using Microsoft.Extensions.Options;

namespace Evothesis.Collector.Sinks.ObjectStorage.Internal;

/// <summary>Checks <c>Evothesis:Storage</c>, the local folder; messages name the bad values.</summary>
internal sealed class StorageOptionsValidator : IValidateOptions<CollectorOptions>
{
    public ValidateOptionsResult Validate(string? name, CollectorOptions options)
    {
        var failures = new List<string>();
        if (string.IsNullOrWhiteSpace(options.Storage.Path))
        {
            failures.Add("Evothesis:Storage:Path must not be empty.");
        }

        ObjectLimits.AddFailures(failures, "Evothesis:Storage", ObjectLimits.For(options.Storage));
        return OptionsChecks.Result(failures);
    }
}
