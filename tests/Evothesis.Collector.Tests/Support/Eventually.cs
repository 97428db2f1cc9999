namespace Evothesis.Collector.Tests.Support;

/// <summary>Waits for what background work (the spool's consumers) makes true, with a deadline, never a fixed sleep.</summary>
public static class Eventually
{
    public static readonly TimeSpan Deadline = TimeSpan.FromSeconds(15);

    public static async Task True(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow + Deadline;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail("The condition was not met in time.");
            }

            await Task.Delay(10);
        }
    }
}
