using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Evothesis.Collector;

/// <summary>
/// A key of the host's root configuration (usually an environment variable of the seed deployment, such as
/// <c>PIXEL_MANAGEMENT_URL</c>) that sets an option the <c>Evothesis</c> section leaves unset.
/// </summary>
/// <typeparam name="TOptions">The options the alias sets: the collector's, or a sink package's.</typeparam>
internal sealed class ConfigurationAlias<TOptions>(string key, Func<TOptions, string?> get, Action<TOptions, string> set)
    where TOptions : class
{
    public string Key { get; } = key;

    public void Apply(TOptions options, IConfiguration configuration)
    {
        // The Evothesis section wins: an alias only fills what it leaves unset.
        if (!string.IsNullOrWhiteSpace(get(options)))
        {
            return;
        }

        var value = configuration[Key];
        if (!string.IsNullOrWhiteSpace(value))
        {
            set(options, value.Trim());
        }
    }
}

/// <summary>Applies every registered <see cref="ConfigurationAlias{TOptions}"/> from the root <see cref="IConfiguration"/>, when the host has one.</summary>
internal sealed class ConfigurationAliasesPostConfigure<TOptions>(IEnumerable<ConfigurationAlias<TOptions>> aliases, IServiceProvider services)
    : IPostConfigureOptions<TOptions>
    where TOptions : class
{
    public void PostConfigure(string? name, TOptions options)
    {
        // Resolved here, not injected: hosts built without configuration (a bare ServiceCollection) have none.
        if (services.GetService<IConfiguration>() is not { } configuration)
        {
            return;
        }

        foreach (var alias in aliases)
        {
            alias.Apply(options, configuration);
        }
    }
}

/// <summary>Registers configuration aliases; each capability adds its own (pixel-management, S3 buckets, ...).</summary>
internal static class ConfigurationAliasServiceCollectionExtensions
{
    /// <summary>Makes the root configuration key <paramref name="key"/> set an option when the <c>Evothesis</c> section leaves it unset.</summary>
    public static IServiceCollection AddConfigurationAlias<TOptions>(
        this IServiceCollection services,
        string key,
        Func<TOptions, string?> get,
        Action<TOptions, string> set)
        where TOptions : class
    {
        services.AddSingleton(new ConfigurationAlias<TOptions>(key, get, set));
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IPostConfigureOptions<TOptions>, ConfigurationAliasesPostConfigure<TOptions>>());
        return services;
    }
}
