using Evothesis.Collector.Privacy.Internal;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Evothesis.Collector.Privacy;

/// <summary>Registers consent, redaction and the privacy rules: the part of <c>AddEvothesisCollector()</c> this folder owns.</summary>
internal static class PrivacyServiceCollectionExtensions
{
    public static IServiceCollection AddPrivacy(this IServiceCollection services)
    {
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<CollectorOptions>, PrivacyOptionsValidator>());
        services.TryAddSingleton<PrivacyMetrics>();
        services.TryAddSingleton(sp => new JsonRedactor(sp.GetRequiredService<IOptions<CollectorOptions>>().Value.Privacy));
        services.TryAddSingleton<ConsentProcessor>();
        services.TryAddSingleton<RedactionProcessor>();
        services.TryAddSingleton<PrivacyRules>();
        return services;
    }
}
