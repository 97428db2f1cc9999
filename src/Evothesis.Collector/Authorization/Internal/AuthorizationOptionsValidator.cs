using Microsoft.Extensions.Options;

namespace Evothesis.Collector.Authorization.Internal;

/// <summary>Checks <c>Evothesis:Authorization</c>; messages name the bad values (a pixel-management URL without its credentials).</summary>
internal sealed class AuthorizationOptionsValidator : IValidateOptions<CollectorOptions>
{
    public ValidateOptionsResult Validate(string? name, CollectorOptions options)
    {
        var failures = new List<string>();
        var authorization = options.Authorization;

        // Empty counts as unset (PIXEL_MANAGEMENT_URL= in a compose file): the clients file is used.
        if (!string.IsNullOrWhiteSpace(authorization.PixelManagementUrl)
            && !PixelManagementUri.TryCreate(authorization.PixelManagementUrl, out _, out var error))
        {
            failures.Add($"Evothesis:Authorization:PixelManagementUrl ('{PixelManagementUri.Redact(authorization.PixelManagementUrl)}') {error}");
        }

        OptionsChecks.Range(failures, "Evothesis:Authorization:PixelManagementTimeout", authorization.PixelManagementTimeout, TimeSpan.FromMilliseconds(100), TimeSpan.FromMinutes(1));
        OptionsChecks.Range(failures, "Evothesis:Authorization:PixelManagementAttemptTimeout", authorization.PixelManagementAttemptTimeout, TimeSpan.FromMilliseconds(50), TimeSpan.FromMinutes(1));
        OptionsChecks.Range(failures, "Evothesis:Authorization:PositiveCacheDuration", authorization.PositiveCacheDuration, TimeSpan.FromSeconds(1), TimeSpan.FromDays(1));
        OptionsChecks.Range(failures, "Evothesis:Authorization:NegativeCacheDuration", authorization.NegativeCacheDuration, TimeSpan.FromSeconds(1), TimeSpan.FromDays(1));
        OptionsChecks.Range(failures, "Evothesis:Authorization:StaleCacheLimit", authorization.StaleCacheLimit, TimeSpan.FromSeconds(1), TimeSpan.FromDays(30));
        OptionsChecks.Range(failures, "Evothesis:Authorization:CorsMaxAge", authorization.CorsMaxAge, TimeSpan.Zero, TimeSpan.FromDays(1));

        if (authorization.PixelManagementAttemptTimeout >= authorization.PixelManagementTimeout)
        {
            failures.Add(
                $"Evothesis:Authorization:PixelManagementAttemptTimeout ({authorization.PixelManagementAttemptTimeout}) must be shorter than " +
                $"Evothesis:Authorization:PixelManagementTimeout ({authorization.PixelManagementTimeout}), which includes every attempt.");
        }

        if (authorization.PixelManagementMaxRetries is < 0 or > 10)
        {
            failures.Add($"Evothesis:Authorization:PixelManagementMaxRetries ({authorization.PixelManagementMaxRetries}) must be between 0 and 10.");
        }

        if (authorization.StaleCacheLimit < authorization.PositiveCacheDuration)
        {
            failures.Add(
                $"Evothesis:Authorization:StaleCacheLimit ({authorization.StaleCacheLimit}) must be at least " +
                $"Evothesis:Authorization:PositiveCacheDuration ({authorization.PositiveCacheDuration}).");
        }

        if (authorization.CacheSizeLimit is < 16 or > 10_000_000)
        {
            failures.Add($"Evothesis:Authorization:CacheSizeLimit ({authorization.CacheSizeLimit}) must be between 16 and 10000000.");
        }

        OptionsChecks.Range(failures, "Evothesis:Authorization:HealthCheckCacheDuration", authorization.HealthCheckCacheDuration, TimeSpan.Zero, TimeSpan.FromMinutes(5));
        ValidateLookupBudget(failures, authorization.LookupBudget);
        return OptionsChecks.Result(failures);
    }

    private static void ValidateLookupBudget(List<string> failures, LookupBudgetOptions? budget)
    {
        const string Key = "Evothesis:Authorization:LookupBudget";
        if (budget is null)
        {
            failures.Add($"{Key} must not be null.");
            return;
        }

        CheckRate(failures, $"{Key}:PermitsPerSecond", budget.PermitsPerSecond);
        CheckRate(failures, $"{Key}:PermitsPerSecondPerClient", budget.PermitsPerSecondPerClient);
        if (budget.Burst is < 1 or > 1_000_000)
        {
            failures.Add($"{Key}:Burst ({budget.Burst}) must be between 1 and 1000000.");
        }

        if (budget.BurstPerClient is < 1 or > 1_000_000)
        {
            failures.Add($"{Key}:BurstPerClient ({budget.BurstPerClient}) must be between 1 and 1000000.");
        }

        // A client address allowed more than everyone together would make its own budget meaningless.
        if (budget.PermitsPerSecondPerClient > budget.PermitsPerSecond)
        {
            failures.Add(
                $"{Key}:PermitsPerSecondPerClient ({budget.PermitsPerSecondPerClient}) must not exceed {Key}:PermitsPerSecond ({budget.PermitsPerSecond}).");
        }

        if (budget.BurstPerClient > budget.Burst)
        {
            failures.Add($"{Key}:BurstPerClient ({budget.BurstPerClient}) must not exceed {Key}:Burst ({budget.Burst}).");
        }
    }

    private static void CheckRate(List<string> failures, string key, double value)
    {
        // Also refuses NaN, which compares false with everything.
        if (!(value >= 0.001 && value <= 1_000_000))
        {
            failures.Add($"{key} ({value}) must be between 0.001 and 1000000.");
        }
    }
}
