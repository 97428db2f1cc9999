using System.Text;
using Evothesis.Collector.Privacy;
using Evothesis.Collector.Privacy.Internal;

namespace Evothesis.Collector.Tests.Privacy;

public sealed class NameClassifierTests
{
    private readonly NameClassifier _classifier = new(PrivacyOptions.DefaultSecretKeys, PrivacyOptions.DefaultFormMetadataKeys);

    [TestCase("password", "Secret")]
    [TestCase("formId", "FormMetadata")]
    [TestCase("FORM-ID", "FormMetadata")]
    [TestCase("url", "PageContext")]
    [TestCase("name", "Descriptor")]
    [TestCase("value", "ValueHolder")]
    [TestCase("order_id", "None")]
    public void Classify_Name_GivesFlags(string name, string expected)
    {
        var bytes = Encoding.UTF8.GetBytes(name);

        // Twice: the second answer comes from the table and must be the same.
        _classifier.Classify(bytes).ToString().Should().Be(expected);
        _classifier.Classify(bytes).ToString().Should().Be(expected);
    }

    [Test]
    public void Classify_ManyDistinctNames_KeepsAnsweringCorrectly()
    {
        for (var i = 0; i < 5000; i++)
        {
            _classifier.Classify(Encoding.UTF8.GetBytes("field" + i)).Should().Be(NameFlags.None);
            _classifier.Classify(Encoding.UTF8.GetBytes("user_password_" + i)).Should().Be(NameFlags.Secret);
        }
    }

    [Test]
    public void Classify_NameTooLongToRemember_IsStillMatched()
    {
        var name = Encoding.UTF8.GetBytes(new string('x', 100) + "_api_key");

        _classifier.IsSecret(name).Should().BeTrue();
    }

    // Names of up to 64 bytes get every rule, remembered or not; "form____id" is "formId" in another spelling.
    [TestCase(63)]
    [TestCase(64)]
    public void Classify_LongSpellingOfAFormName_IsStillFormMetadata(int length)
    {
        var name = Encoding.UTF8.GetBytes("form" + new string('_', length - 6) + "id");

        _classifier.Classify(name).Should().Be(NameFlags.FormMetadata);
        _classifier.Classify(name).Should().Be(NameFlags.FormMetadata);
    }

    [Test]
    public void Classify_NameLongerThan64Bytes_GetsOnlyTheSecretRule()
    {
        // Form keys are short; a longer name is matched against the secret names only, so a 65-byte
        // spelling of "formId" is an ordinary name and "password" still a secret at any length.
        _classifier.Classify(Encoding.UTF8.GetBytes("form" + new string('_', 59) + "id")).Should().Be(NameFlags.None);
        _classifier.Classify(Encoding.UTF8.GetBytes("password" + new string('_', 60) + "x")).Should().Be(NameFlags.Secret);
    }

    [Test]
    public void Classify_NamesSharingASlot_EachKeepItsOwnAnswer()
    {
        // 5000 names over 1024 slots collide; a remembered answer is only given back for its own name.
        var names = Enumerable.Range(0, 5000).Select(i => i % 2 == 0 ? "note" + i : "apiKey" + i).ToArray();
        for (var round = 0; round < 2; round++)
        {
            foreach (var name in names)
            {
                _classifier.Classify(Encoding.UTF8.GetBytes(name)).Should().Be(name.StartsWith("api", StringComparison.Ordinal) ? NameFlags.Secret : NameFlags.None, name);
            }
        }
    }

    [Test]
    public void Classify_EmptyName_IsNone()
    {
        _classifier.Classify([]).Should().Be(NameFlags.None);
        _classifier.IsSecret([]).Should().BeFalse();
    }
}
