using Microsoft.Extensions.Options;

namespace Evothesis.Collector.Nats.Internal;

/// <summary>Checks the data annotations of <see cref="NatsJetStreamOptions"/> (source-generated, no reflection).</summary>
[OptionsValidator]
internal sealed partial class NatsJetStreamOptionsAnnotationsValidator : IValidateOptions<NatsJetStreamOptions>;

/// <summary>Checks the data annotations of <see cref="NatsLoaderOptions"/> (source-generated, no reflection).</summary>
[OptionsValidator]
internal sealed partial class NatsLoaderOptionsAnnotationsValidator : IValidateOptions<NatsLoaderOptions>;

/// <summary>Checks what data annotations cannot express; messages name the bad values.</summary>
internal sealed class NatsJetStreamOptionsValidator : IValidateOptions<NatsJetStreamOptions>
{
    private readonly NatsJetStreamOptionsAnnotationsValidator _annotations = new();

    public ValidateOptionsResult Validate(string? name, NatsJetStreamOptions options)
    {
        var annotations = _annotations.Validate(name, options);
        if (annotations.Failed)
        {
            return annotations;
        }

        var failures = new List<string>();
        if (options.MaxAge <= TimeSpan.Zero)
        {
            failures.Add($"{NatsJetStreamOptions.SectionName}:MaxAge must be positive (it is {options.MaxAge}).");
        }

        if (options.DuplicateWindow <= TimeSpan.Zero || options.DuplicateWindow > options.MaxAge)
        {
            failures.Add($"{NatsJetStreamOptions.SectionName}:DuplicateWindow must be positive and at most MaxAge (it is {options.DuplicateWindow}, MaxAge {options.MaxAge}).");
        }

        if (options.RequestTimeout <= TimeSpan.Zero)
        {
            failures.Add($"{NatsJetStreamOptions.SectionName}:RequestTimeout must be positive (it is {options.RequestTimeout}).");
        }

        return failures.Count > 0 ? ValidateOptionsResult.Fail(failures) : ValidateOptionsResult.Success;
    }
}

/// <summary>Checks what data annotations cannot express; messages name the bad values.</summary>
internal sealed class NatsLoaderOptionsValidator : IValidateOptions<NatsLoaderOptions>
{
    private readonly NatsLoaderOptionsAnnotationsValidator _annotations = new();

    public ValidateOptionsResult Validate(string? name, NatsLoaderOptions options)
    {
        var annotations = _annotations.Validate(name, options);
        if (annotations.Failed)
        {
            return annotations;
        }

        var failures = new List<string>();
        // The client refuses a pull request that expires within a second.
        if (options.FetchWait <= TimeSpan.FromSeconds(1))
        {
            failures.Add($"{NatsLoaderOptions.SectionName}:FetchWait must be more than 1 second (it is {options.FetchWait}).");
        }

        if (options.AckWait < TimeSpan.FromSeconds(1) || options.AckWait <= options.FetchWait)
        {
            failures.Add($"{NatsLoaderOptions.SectionName}:AckWait must be at least 1 second and longer than FetchWait (it is {options.AckWait}, FetchWait {options.FetchWait}).");
        }

        return failures.Count > 0 ? ValidateOptionsResult.Fail(failures) : ValidateOptionsResult.Success;
    }
}
