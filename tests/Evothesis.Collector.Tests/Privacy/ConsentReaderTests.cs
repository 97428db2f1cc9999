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
    [TestCase("[true]", "None")]
    [TestCase("2", "None")]
    public void Read_Value_GivesDecision(string json, string expected)
    {
        ConsentReader.Read(RawJson.Parse(json)).ToString().Should().Be(expected);
    }

    [Test]
    public void Read_Absent_IsNone()
    {
        ConsentReader.Read(RawJson.Null).Should().Be(ConsentDecision.None);
    }
}
