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
    [TestCase("pin2")]
    [TestCase("password1")]
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
    [TestCase("card_holder")]
    [TestCase("cardType")]
    public void Matches_NameWithoutAnEntryAsWords_IsFalse(string name)
    {
        Matcher.Matches(name.AsSpan()).Should().BeFalse();
    }

    [Test]
    public void Normalize_DifferentSpellings_GiveOneName()
    {
        new[] { "formId", "form_id", "FORM-ID", "form id" }.Select(KeyNameMatcher.Normalize).Distinct().Should().Equal("formid");
    }

    [Test]
    public void Matches_NamesLongerThanTheStackBuffer_AreMatched()
    {
        var name = new string('x', 300) + "_password";

        Matcher.Matches(name.AsSpan()).Should().BeTrue();
        Matcher.Matches(System.Text.Encoding.UTF8.GetBytes(name)).Should().BeTrue();
        Matcher.Matches(System.Text.Encoding.UTF8.GetBytes(new string('x', 300) + "_shipping")).Should().BeFalse();
    }

    [Test]
    public void Matches_NameOfManyWords_LooksAtTheFirst32()
    {
        // A name is split into at most 32 words; an entry may start in the last of them without reading past it.
        var filler = string.Join('_', Enumerable.Repeat("w", 31));

        Matcher.Matches((filler + "_pin").AsSpan()).Should().BeTrue();
        Matcher.Matches((filler + "_card").AsSpan()).Should().BeFalse();
        Matcher.Matches(("password_" + string.Join('_', Enumerable.Repeat("w", 40))).AsSpan()).Should().BeTrue();
        Matcher.Matches((string.Join('_', Enumerable.Repeat("w", 40)) + "_pin").AsSpan()).Should().BeFalse();
    }

    [Test]
    public void Constructor_EntryWithoutWords_IsIgnored()
    {
        var matcher = new KeyNameMatcher(["", "--", "pin"]);

        matcher.Matches("pin".AsSpan()).Should().BeTrue();
        matcher.Matches("--".AsSpan()).Should().BeFalse();
    }
}
