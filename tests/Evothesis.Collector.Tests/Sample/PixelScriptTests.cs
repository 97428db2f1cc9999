using System.Text;
using System.Text.Json;
using Evothesis.Collector.Authorization;
using Evothesis.Collector.Sample.Pixel;

namespace Evothesis.Collector.Tests.Sample;

/// <summary>Rendering the tracking script with a client's configuration.</summary>
public sealed class PixelScriptTests
{
    [Test]
    public void Render_ValuesThatCouldEndTheScript_AreEscapedAndRoundTrip()
    {
        const string hostile = "x\"};alert(1);//</script><script>\u2028\u2029'&<!--";
        var script = new PixelScript("var SERVED = " + PixelScript.Placeholder + ";");

        var text = Encoding.UTF8.GetString(script.Render(new ClientConfig { ClientId = hostile }, "https://c.example/collect?a=1&b=<2>", new PixelOptions()));

        text.Should().NotContain("</script>").And.NotContain("\u2028").And.NotContain("\u2029").And.NotContain("<").And.NotContain("'");
        using var config = JsonDocument.Parse(text["var SERVED = ".Length..^1]);
        config.RootElement.GetProperty("client_id").GetString().Should().Be(hostile);
        config.RootElement.GetProperty("endpoint").GetString().Should().Be("https://c.example/collect?a=1&b=<2>");
    }

    [Test]
    public void Render_HipaaClientRequiringConsent_WritesModeAndConsentRules()
    {
        var script = new PixelScript(PixelScript.Placeholder);
        var client = new ClientConfig
        {
            ClientId = "client_clinic",
            PrivacyLevel = PrivacyLevel.Hipaa,
            IpCollection = new IpCollectionSettings { HashRequired = true, Salt = "clinic-salt-9f" },
            Consent = new ConsentSettings { Required = true, DefaultBehavior = ConsentDefault.OptOut },
        };

        var text = Encoding.UTF8.GetString(script.Render(client, "https://c.example/collect", new PixelOptions()));

        using var config = JsonDocument.Parse(text);
        config.RootElement.GetProperty("privacy_mode").GetString().Should().Be("hipaa");
        config.RootElement.GetProperty("consent").GetProperty("required").GetBoolean().Should().BeTrue();
        config.RootElement.GetProperty("consent").GetProperty("default_behavior").GetString().Should().Be("opt_out");
        text.Should().NotContain("clinic-salt-9f");
    }

    [TestCase("no placeholder")]
    [TestCase("/*__EVOTHESIS_CONFIG__*/null /*__EVOTHESIS_CONFIG__*/null")]
    public void Constructor_TemplateWithoutExactlyOnePlaceholder_Throws(string template)
    {
        var create = () => new PixelScript(template);

        create.Should().Throw<InvalidOperationException>().WithMessage("*exactly once*");
    }

    [Test]
    public void FromEmbeddedTemplate_TheShippedScript_HasThePlaceholderOnce()
    {
        var script = PixelScript.FromEmbeddedTemplate();

        var text = Encoding.UTF8.GetString(script.Render(new ClientConfig { ClientId = "c" }, "https://c.example/collect", new PixelOptions()));

        text.Should().Contain("var SERVED = {\"client_id\":\"c\"");
    }
}
