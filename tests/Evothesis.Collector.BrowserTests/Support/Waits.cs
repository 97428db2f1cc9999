namespace Evothesis.Collector.BrowserTests.Support;

/// <summary>
/// How long the tests wait for a signal (a request, a console line, a stored event) before failing. Generous,
/// because the machine may be loaded; a passing test waits only as long as the signal takes.
/// </summary>
internal static class Waits
{
    /// <summary>The longest wait for one signal.</summary>
    public static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);

    /// <summary>How often a condition outside the browser (stored events) is checked.</summary>
    public static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(100);

    /// <summary>The longest wait for one signal, in milliseconds, for Playwright options.</summary>
    public static float DeadlineMilliseconds => (float)Deadline.TotalMilliseconds;
}
