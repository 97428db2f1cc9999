using Microsoft.Playwright;

namespace Evothesis.Collector.BrowserTests.Support;

/// <summary>Debian's Chromium, driven by Playwright. Playwright's own browser downloads are never used.</summary>
internal static class Chromium
{
    /// <summary>Names the browser can be installed under, in the order they are tried.</summary>
    private static readonly string[] Names = ["chromium", "chromium-browser"];

    /// <summary>Finds the Chromium executable: <c>EVOTHESIS_CHROMIUM</c>, else the first of <see cref="Names"/> on the PATH.</summary>
    /// <returns>The executable's path, or <see langword="null"/> when there is none.</returns>
    public static string? FindExecutable()
    {
        var configured = Environment.GetEnvironmentVariable("EVOTHESIS_CHROMIUM");
        if (!string.IsNullOrWhiteSpace(configured))
        {
            return File.Exists(configured) ? configured : null;
        }

        var path = Environment.GetEnvironmentVariable("PATH") ?? string.Empty;
        foreach (var name in Names)
        {
            foreach (var dir in path.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
            {
                var candidate = Path.Combine(dir, name);
                if (File.Exists(candidate))
                {
                    return candidate;
                }
            }
        }

        return null;
    }

    /// <summary>Launches headless Chromium with a fresh profile (Playwright gives each launch its own temporary user-data dir).</summary>
    /// <param name="playwright">The Playwright driver.</param>
    /// <returns>The browser.</returns>
    public static Task<IBrowser> LaunchAsync(IPlaywright playwright)
    {
        var executable = FindExecutable();
        if (executable is null)
        {
            Assert.Fail(
                "Chromium is not installed, and the browser tests need it. Run ./test.sh (it installs what the tests need), " +
                "or 'apt-get install -y chromium', or set EVOTHESIS_CHROMIUM to the browser's path.");
        }

        return playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = executable,
            Headless = true,
            Timeout = Waits.DeadlineMilliseconds * 2,
            Args =
            [
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        });
    }
}
