using System.ComponentModel.DataAnnotations;
using Evothesis.Collector.Ingestion;

namespace Evothesis.Collector.Tests.Ingestion;

public sealed class RequestLimitsOptionsTests
{
    [Test]
    public void Defaults_AreTheDocumentedOnes()
    {
        // README, "Configuration": the limits a host gets without setting any.
        var limits = new RequestLimitsOptions();

        limits.MaxBodyBytes.Should().Be(1_048_576);
        limits.MaxEventsPerBatch.Should().Be(500);
        limits.MaxJsonDepth.Should().Be(32);
        limits.MaxStringLength.Should().Be(8192);
        limits.MaxIdentifierLength.Should().Be(256);
        limits.MaxPayloadExpansion.Should().Be(8);
        limits.MaxUserAgentLength.Should().Be(512);
        RequestLimitsOptions.PayloadExpansionAllowance.Should().Be(65_536);
        Validate(limits).Should().BeEmpty();
    }

    [TestCase(nameof(RequestLimitsOptions.MaxBodyBytes), 1023)]
    [TestCase(nameof(RequestLimitsOptions.MaxEventsPerBatch), 0)]
    [TestCase(nameof(RequestLimitsOptions.MaxJsonDepth), 3)]
    [TestCase(nameof(RequestLimitsOptions.MaxStringLength), 63)]
    [TestCase(nameof(RequestLimitsOptions.MaxIdentifierLength), 15)]
    [TestCase(nameof(RequestLimitsOptions.MaxPayloadExpansion), 0)]
    [TestCase(nameof(RequestLimitsOptions.MaxUserAgentLength), 8193)]
    public void Validate_OutOfRange_NamesTheLimit(string property, int value)
    {
        var limits = new RequestLimitsOptions();
        typeof(RequestLimitsOptions).GetProperty(property)!.SetValue(limits, value);

        Validate(limits).Should().ContainSingle().Which.MemberNames.Should().Equal(property);
    }

    private static List<ValidationResult> Validate(RequestLimitsOptions limits)
    {
        var results = new List<ValidationResult>();
        Validator.TryValidateObject(limits, new ValidationContext(limits), results, validateAllProperties: true);
        return results;
    }
}
