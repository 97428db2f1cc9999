using Evothesis.Collector.Events;
using Evothesis.Collector.Privacy.Internal;

namespace Evothesis.Collector.Tests.Privacy;

public sealed class ConsentReaderTests
{
    [TestCase("\"granted\"", "Granted")]
    [TestCase("\"GRANTED\"", "Granted")]
    [TestCase("\" accepted \"", "Granted")]
    [TestCase("true", "Granted")]
    [TestCase("1", "Granted")]
    [TestCase("{\"analytics\":true}", "Granted")]
    [TestCase("{\"analytics\":\"granted\",\"marketing\":false}", "Granted")]
    [TestCase("{\"analytics_storage\":\"granted\"}", "Granted")]
    [TestCase("{\"statistics\":1}", "Granted")]
    [TestCase("\"denied\"", "Denied")]
    [TestCase("\"opt_out\"", "Denied")]
    [TestCase("false", "Denied")]
    [TestCase("0", "Denied")]
    [TestCase("{\"analytics\":false}", "Denied")]
    [TestCase("{\"analytics_storage\":\"denied\"}", "Denied")]
    [TestCase("{\"analytics\":true,\"statistics\":false}", "Denied")]
    [TestCase("{\"statistics\":false,\"analytics\":true}", "Denied")]
    [TestCase("null", "None")]
    [TestCase("\"maybe\"", "None")]
    [TestCase("{\"marketing\":true}", "None")]
    [TestCase("{\"analytics\":{\"nested\":true}}", "None")]
    [TestCase("{\"analytics\":{\"analytics\":false}}", "None")]
    [TestCase("{\"ads\":{\"analytics\":false},\"analytics\":true}", "Granted")]
    [TestCase("{\"ads\":[\"analytics\",false],\"statistics\":\"granted\"}", "Granted")]
    [TestCase("[true]", "None")]
    [TestCase("2", "None")]
    public void Read_Value_GivesDecision(string json, string expected)
    {
        ConsentReader.Read(RawJson.Parse(json)).ToString().Should().Be(expected);
    }

    // Every spelling the reader accepts (docs/privacy.md lists the common ones): as a string, in any case and
    // with spaces around it, and as the analytics purpose of a consent object.
    [TestCase("granted", "Granted")]
    [TestCase("grant", "Granted")]
    [TestCase("true", "Granted")]
    [TestCase("yes", "Granted")]
    [TestCase("accepted", "Granted")]
    [TestCase("accept", "Granted")]
    [TestCase("allow", "Granted")]
    [TestCase("allowed", "Granted")]
    [TestCase("opt_in", "Granted")]
    [TestCase("opt-in", "Granted")]
    [TestCase("optin", "Granted")]
    [TestCase("given", "Granted")]
    [TestCase("all", "Granted")]
    [TestCase("1", "Granted")]
    [TestCase("denied", "Denied")]
    [TestCase("deny", "Denied")]
    [TestCase("false", "Denied")]
    [TestCase("no", "Denied")]
    [TestCase("rejected", "Denied")]
    [TestCase("reject", "Denied")]
    [TestCase("declined", "Denied")]
    [TestCase("decline", "Denied")]
    [TestCase("opt_out", "Denied")]
    [TestCase("opt-out", "Denied")]
    [TestCase("optout", "Denied")]
    [TestCase("withdrawn", "Denied")]
    [TestCase("revoked", "Denied")]
    [TestCase("none", "Denied")]
    [TestCase("0", "Denied")]
    public void Read_DocumentedWord_GivesItsDecision(string word, string expected)
    {
        ConsentReader.Read(RawJson.Parse($"\"{word}\"")).ToString().Should().Be(expected);
        ConsentReader.Read(RawJson.Parse($"\" {word.ToUpperInvariant()} \"")).ToString().Should().Be(expected);
        ConsentReader.Read(RawJson.Parse($"{{\"analytics\":\"{word}\"}}")).ToString().Should().Be(expected);
    }

    [TestCase("analytics")]
    [TestCase("ANALYTICS")]
    [TestCase("analytics_storage")]
    [TestCase("analyticsStorage")]
    [TestCase("Statistics")]
    public void Read_ObjectWithAnalyticsPurpose_IsReadWhateverTheCase(string purpose)
    {
        ConsentReader.Read(RawJson.Parse($"{{\"ads\":\"denied\",\"{purpose}\":\"granted\"}}")).Should().Be(ConsentDecision.Granted);
        ConsentReader.Read(RawJson.Parse($"{{\"{purpose}\":\"denied\",\"ads\":\"granted\"}}")).Should().Be(ConsentDecision.Denied);
    }

    [Test]
    public void Read_ObjectWithOnlyOtherPurposesAfterAGrant_KeepsTheGrant()
    {
        ConsentReader.Read(RawJson.Parse("""{"analytics":"granted","statistics":"maybe","ads":false}""")).Should().Be(ConsentDecision.Granted);
    }

    [TestCase("1.0")]
    [TestCase("10")]
    [TestCase("-1")]
    public void Read_OtherNumber_IsNone(string json)
    {
        ConsentReader.Read(RawJson.Parse(json)).Should().Be(ConsentDecision.None);
    }

    [Test]
    public void Read_Absent_IsNone()
    {
        ConsentReader.Read(RawJson.Null).Should().Be(ConsentDecision.None);
    }
}
