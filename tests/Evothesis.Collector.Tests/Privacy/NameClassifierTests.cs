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
}
