using OpenQA.Selenium;
using OpenQA.Selenium.Chrome;
using OpenQA.Selenium.Support.UI;

namespace Mesh.EndToEnd.Tests;

/// <summary>
/// A real headless Chromium from the Debian packages (<c>chromium</c>, <c>chromium-driver</c>),
/// driven through WebDriver; one per test class. Screenshots go to
/// <c>TestResults/screenshots/</c> under the repository root, beside the test results.
/// </summary>
public sealed class Browser : IDisposable
{
    public const string ChromiumPath = "/usr/bin/chromium";
    public const string DriverPath = "/usr/bin/chromedriver";
    public const int Width = 1280, Height = 900;

    public static string ScreenshotDir => Path.Combine(Binaries.RepoRoot, "TestResults", "screenshots");

    private readonly ChromeDriver _driver;

    public Browser()
    {
        // CI installs both (tests/apt-packages.txt): a missing one is a failure, never a silent pass.
        foreach (var (path, package) in new[] { (ChromiumPath, "chromium"), (DriverPath, "chromium-driver") })
            if (!File.Exists(path))
                throw new InvalidOperationException($"{path} not found: the dashboard tests drive a real browser. Install the Debian package " +
                    $"'{package}' (listed in tests/apt-packages.txt; ./test.sh installs it when run as root).");
        var service = ChromeDriverService.CreateDefaultService(Path.GetDirectoryName(DriverPath)!, Path.GetFileName(DriverPath));
        service.SuppressInitialDiagnosticInformation = true;
        service.HideCommandPromptWindow = true;
        var options = new ChromeOptions { BinaryLocation = ChromiumPath };
        // Root (as in CI) cannot use Chromium's sandbox; a container's /dev/shm is small.
        options.AddArguments("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--hide-scrollbars", $"--window-size={Width},{Height}");
        _driver = new ChromeDriver(service, options, TimeSpan.FromSeconds(60));
    }

    public IWebDriver Driver => _driver;

    public void Open(string url) => _driver.Navigate().GoToUrl(url);

    /// <summary>Waits until <paramref name="condition"/> gives a value (not null, not false), and returns it.</summary>
    public T Until<T>(Func<IWebDriver, T?> condition, string what, TimeSpan? timeout = null)
    {
        var wait = new WebDriverWait(_driver, timeout ?? TimeSpan.FromSeconds(30)) { Message = what };
        // The page draws itself again on every event: an element read a moment ago may be gone.
        wait.IgnoreExceptionTypes(typeof(NoSuchElementException), typeof(StaleElementReferenceException));
        return wait.Until(condition)!;
    }

    public object? Script(string script, params object[] args) => _driver.ExecuteScript(script, args);

    public void Resize(int width, int height) => _driver.Manage().Window.Size = new System.Drawing.Size(width, height);

    /// <summary>Saves the whole page (beyond the window too) as <c>&lt;name&gt;.png</c> in <see cref="ScreenshotDir"/>; returns its path.</summary>
    public string Screenshot(string name)
    {
        Directory.CreateDirectory(ScreenshotDir);
        var path = Path.Combine(ScreenshotDir, name + ".png");
        var shot = _driver.ExecuteCdpCommand("Page.captureScreenshot", new Dictionary<string, object?> { ["format"] = "png", ["captureBeyondViewport"] = true });
        var data = shot is Dictionary<string, object> answer ? (string)answer["data"] : throw new InvalidOperationException($"no screenshot: {shot}");
        File.WriteAllBytes(path, Convert.FromBase64String(data));
        return path;
    }

    public void Dispose() => _driver.Quit();
}
