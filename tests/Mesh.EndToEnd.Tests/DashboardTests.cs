using OpenQA.Selenium;

namespace Mesh.EndToEnd.Tests;

/// <summary>
/// The web dashboard in a real browser against a real three-node mesh: what it lists, and that
/// pushes and reports made with the real CLI show up without a reload. Every page is saved as
/// a screenshot (<see cref="Browser.ScreenshotDir"/>).
/// </summary>
[Collection(EndToEndCollection.Name)]
public sealed class DashboardTests(ThreeNodeMesh mesh, Browser browser) : IClassFixture<ThreeNodeMesh>, IClassFixture<Browser>
{
    private string Page(string hash = "") => $"http://{mesh.A.Api}/{hash}";

    // Read inside the page in one script: the page redraws itself as events arrive, and an
    // element found by one WebDriver call may be gone by the next.
    private string[] Texts(string css) => Read(css, "e.innerText.trim()");

    private string[] Attributes(string css, string attribute) => Read(css, $"e.getAttribute('{attribute}') ?? ''");

    private string[] Read(string css, string expression) =>
        ((IEnumerable<object>)browser.Script($"return [...document.querySelectorAll(arguments[0])].map(e => {expression});", css)!)
            .Select(o => o?.ToString() ?? "").ToArray();

    /// <summary>Opens a page and marks the document, so that a test can tell a reload (the mark is gone) from a live update.</summary>
    private void OpenAndMark(string hash)
    {
        browser.Resize(Browser.Width, Browser.Height);
        browser.Open(Page(hash));
        browser.Until(d => d.FindElement(By.CssSelector("body[data-drawn]")), "the page drew itself");
        browser.Until(d => d.FindElement(By.Id("live")).Text.Contains("live"), "the event stream is open");
        browser.Script("window.meshTestMark = 'not reloaded';");
    }

    private void AssertNotReloaded() => Assert.Equal("not reloaded", browser.Script("return window.meshTestMark;"));

    private async Task Push(params string[] args)
    {
        var pushed = await mesh.Cli(mesh.B, ["push", .. args]);
        Assert.True(pushed.ExitCode == 0, pushed.ToString());
    }

    private string Manifest(string name, string content) => mesh.Manifest($"{name}.yaml", $"""
        manifest: {name}
        resources:
          - {"{"} id: file, type: file, path: /{name}.txt, content: "{content}\n" {"}"}
        """);

    [Fact]
    public void The_fleet_page_lists_every_node_of_the_mesh_with_its_roles_and_labels()
    {
        OpenAndMark("#/");

        var rows = browser.Until(d => Attributes("#fleet tbody tr[data-node]", "data-node") is { Length: 3 } names ? names : null, "three members listed");
        Assert.Equal(["a", "b", "c"], rows);
        Assert.Contains("this node", Texts("#fleet tr[data-node='a'] th")[0]);
        Assert.Contains("web", Texts("#fleet tr[data-node='b'] td")[2]);
        Assert.Contains("env=prod", Texts("#fleet tr[data-node='c'] td")[3]);
        Assert.All(Texts("#fleet tbody tr td:nth-of-type(1)"), status => Assert.Equal("up", status));
        Assert.All(Texts("#fleet tbody tr td:nth-of-type(2)"), reachable => Assert.Equal("✓ reachable", reachable));
        browser.Screenshot("fleet");
    }

    [Fact]
    public async Task A_push_made_with_the_cli_appears_in_the_matrix_without_reload()
    {
        OpenAndMark("#/manifests");

        await Push(Manifest("dash-live", "live"), "-m", "shown live");

        var cells = browser.Until(d => Texts("#matrix td[data-manifest='dash-live'][data-state='ok']") is { Length: 3 } ok ? ok : null,
            "dash-live ok on a, b and c in the matrix");
        Assert.All(cells, text => Assert.Equal("✓ ok", text));
        Assert.Contains("shown live", Texts("#manifests tr[data-manifest='dash-live']")[0]);
        AssertNotReloaded();
        browser.Screenshot("manifests");
    }

    [Fact]
    public async Task A_failed_apply_shows_its_error_in_the_matrix_and_the_failures()
    {
        OpenAndMark("#/manifests");
        var broken = mesh.Manifest("dash-broken.yaml", """
            manifest: dash-broken
            target:
              nodes: [c]
            resources:
              - { id: orphan, type: file, path: /no/such/dir/orphan.txt, content: "x\n" }
            """);

        await Push(broken, "-m", "a file without its directory");

        var failure = browser.Until(d => Texts("#failures .failure[data-node='c'][data-manifest='dash-broken'] pre").FirstOrDefault(), "the failure listed with its error");
        var reported = (await mesh.A.StatusAsync()).Manifests.Single(s => s.Manifest == "dash-broken").Report!.Error!;
        Assert.Equal(reported, failure);
        Assert.Contains("parent directory /no/such/dir of /no/such/dir/orphan.txt does not exist", failure);
        Assert.Equal("✗ failed", Texts("#matrix td[data-node='c'][data-manifest='dash-broken']")[0]);
        Assert.Equal("– not targeted", Texts("#matrix td[data-node='a'][data-manifest='dash-broken']")[0]);
        AssertNotReloaded();
        browser.Screenshot("failures");

        browser.Open(Page("#/manifest/dash-broken"));
        Assert.Equal(reported, browser.Until(d => Texts("#nodes tr[data-node='c'] pre.error").FirstOrDefault(), "the node's error on the manifest's page"));
    }

    [Fact]
    public async Task The_manifest_page_shows_its_history_and_the_diff_between_any_two_revisions()
    {
        foreach (var (content, message) in new[] { ("first", "one"), ("second", "two"), ("third", "three") })
            await Push(Manifest("dash-history", content), "-m", message);
        OpenAndMark("#/manifest/dash-history");

        var versions = browser.Until(d => Attributes("#history tbody tr", "data-version") is { Length: 3 } v ? v : null, "three revisions in the history");
        Assert.Equal(["three", "two", "one"], Texts("#history tbody tr td:nth-of-type(6)"));
        // By default: the head against the revision before it.
        var diff = browser.Until(d => Texts("#diff")[0], "the diff");
        Assert.Contains("-      \"content\": \"second\\n\",", diff);
        Assert.Contains("+      \"content\": \"third\\n\",", diff);

        browser.Until(d =>
        {
            d.FindElement(By.CssSelector($"#history tr[data-version='{versions[2]}'] input[name='from']")).Click();
            return true;
        }, "the first revision picked as the diff's base");
        browser.Until(d => Texts("#diff")[0].Contains("-      \"content\": \"first\\n\","), "the diff from the first revision");
        Assert.Contains("+      \"content\": \"third\\n\",", Texts("#diff")[0]);
        Assert.Contains($"--- dash-history@{versions[2]}", Texts("#diff")[0]);
        browser.Screenshot("manifest");

        await Push(Manifest("dash-history", "fourth"), "-m", "four");
        browser.Until(d => Attributes("#history tbody tr", "data-version").Length == 4, "the new revision in the history without reload");
        AssertNotReloaded();
    }

    [Fact]
    public async Task The_event_feed_shows_pushes_and_reports_as_they_happen()
    {
        OpenAndMark("#/events");

        await Push(Manifest("dash-feed", "fed"), "-m", "for the feed");

        browser.Until(d => Texts("#feed li[data-kind='revision']").Any(t => t.Contains("dash-feed") && t.Contains("for the feed")), "the revision in the feed");
        browser.Until(d => Texts("#feed li[data-kind='report']").Count(t => t.Contains("dash-feed") && t.Contains("✓ ok")) == 3, "three reports in the feed");
        Assert.Equal("log", Attributes("#feed", "role").Single());
        AssertNotReloaded();
        browser.Screenshot("events");
    }

    [Fact]
    public async Task On_a_phone_sized_screen_only_the_matrix_scrolls_sideways()
    {
        foreach (var i in Enumerable.Range(1, 6)) await Push(Manifest($"dash-phone-with-a-long-name-{i}", "small"));
        OpenAndMark("#/manifests");
        browser.Resize(390, 844);
        browser.Until(d => Texts("#matrix td[data-manifest='dash-phone-with-a-long-name-6'][data-state='ok']").Length == 3, "the last manifest's column");

        var page = (long)browser.Script("return document.documentElement.scrollWidth - document.documentElement.clientWidth;")!;
        Assert.Equal(0, page);
        // Each look is one script: the page may draw itself again between two WebDriver calls.
        Assert.True((long)browser.Script("const m = document.getElementById('matrix').parentElement; return m.scrollWidth - m.clientWidth;")! > 0,
            "the matrix is wider than the screen");
        Assert.True((bool)browser.Script("""
            const last = document.querySelector("#matrix td[data-node='c'][data-manifest='dash-phone-with-a-long-name-6']");
            last.scrollIntoView({ inline: 'end' });
            const r = last.getBoundingClientRect();
            return r.left >= 0 && r.right <= document.documentElement.clientWidth;
            """)!, "the matrix's last column scrolls into view");
        browser.Script("window.scrollTo(0, 0); document.getElementById('matrix').parentElement.scrollLeft = 0;");
        browser.Screenshot("phone-manifests");
    }
}
