using Evothesis.Collector.Privacy.Internal;

namespace Evothesis.Collector.Tests.Privacy;

public sealed class KeyNameMatcherTests
{
    private static readonly KeyNameMatcher Matcher = new(["card_number", "pin", "password", "api_key", "ssn"]);

    [TestCase("card_number")]
    [TestCase("cardNumber")]
    [TestCase("CardNumber")]
    [TestCase("CARD-NUMBER")]
    [TestCase("billing.cardNumber")]
    [TestCase("billingCardNumber")]
    [TestCase("pin")]
    [TestCase("PIN")]
    [TestCase("pin_code")]
    [TestCase("newPassword")]
    [TestCase("passwords")]
    [TestCase("x-api-key")]
    [TestCase("userSSN")]
    [TestCase("SSNNumber")]
    public void Matches_NameContainingAnEntryAsWords_IsTrue(string name)
    {
        Matcher.Matches(name.AsSpan()).Should().BeTrue();
        Matcher.Matches(System.Text.Encoding.UTF8.GetBytes(name)).Should().BeTrue();
    }

    [TestCase("shipping")]
    [TestCase("spinner")]
    [TestCase("card")]
    [TestCase("number")]
    [TestCase("passenger")]
    [TestCase("apikeys_count_total_x")]
    [TestCase("lessons")]
    [TestCase("")]
    public void Matches_NameWithoutAnEntryAsWords_IsFalse(string name)
    {
        Matcher.Matches(name.AsSpan()).Should().BeFalse();
    }

    [Test]
    public void Normalize_DifferentSpellings_GiveOneName()
    {
        new[] { "formId", "form_id", "FORM-ID", "form id" }.Select(KeyNameMatcher.Normalize).Distinct().Should().Equal("formid");
    }
}
