using System.Text;

namespace Mesh.EndToEnd.Tests;

/// <summary>
/// Hostile input thrown at a real node through the real CLI: each is refused (or fails to
/// apply) with a clear error, and the node keeps running with its state as it was.
/// </summary>
[Collection(SecondEndToEndLane.Name)]
public sealed class HostileInputTests : IAsyncLifetime
{
    private readonly NodeGroup _nodes = NodeGroup.InTempDirectory("mesh-e2e-hostile-");
    private NodeProcess _node = null!;

    private Task<ProcessResult> Cli(params string[] args) => _node.Cli(args);

    private string Write(string name, string text) => _nodes.Write(name, text);

    [Fact]
    public async Task Bombs_oversized_bodies_escapes_and_file_system_templates_are_refused_and_the_node_keeps_its_state()
    {
        var good = await Cli("push", Write("good.yaml", "manifest: good\nresources:\n  - { id: f, type: file, path: /good, content: \"kept\\n\" }\n"), "--wait");
        Assert.True(good.ExitCode == 0, good.ToString());
        var listed = (await Cli("list", "--json")).Out;

        var bomb = new StringBuilder("manifest: bomb\nvars:\n  l0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
        for (var i = 1; i <= 9; i++) bomb.Append($"  l{i}: &l{i} [{string.Join(", ", Enumerable.Repeat($"*l{i - 1}", 10))}]\n");
        bomb.Append("  boom: *l9\n");
        await Refused(Write("bomb.yaml", bomb.ToString()), 2, "bomb.yaml", "values (after expanding aliases)");

        await Refused(Write("deep.yaml", $"manifest: deep\nvars:\n  x: {new string('[', 500)}{new string(']', 500)}\n"), 2, "deep.yaml", "nesting deeper than");

        await Refused(Write("escape.yaml", "manifest: escape\nresources:\n  - { id: f, type: file, path: /etc/../../passwd, content: x }\n"),
            2, "escape.yaml", "escapes the root");

        // A body above the API's limit (64 MiB) is cut off by the node, not buffered.
        var huge = Path.Combine(_nodes.WorkDir, "huge.bin");
        await using (var file = File.Create(huge)) file.SetLength(65L * 1024 * 1024);
        await Refused(Write("huge.yaml", "manifest: huge\nresources:\n  - { id: f, type: file, path: /huge, source: huge.bin }\n"), 2, "huge.yaml", "too large");
        // A client that sends one anyway is answered 413 (or cut off mid-upload); the node does not buffer it.
        using (var http = new HttpClient { BaseAddress = new Uri($"http://{_node.Api}/") })
        {
            try
            {
                var response = await http.PostAsync("v1/push", new ByteArrayContent(new byte[65L * 1024 * 1024]));
                Assert.Equal(413, (int)response.StatusCode);
            }
            catch (HttpRequestException)
            {
                // Cut off while sending: as refused as a 413.
            }
        }

        // A symlink planted inside the root that leads out of it: the apply fails and names it; nothing is written outside.
        var outside = Directory.CreateTempSubdirectory("mesh-e2e-outside-").FullName;
        try
        {
            Directory.CreateSymbolicLink(_node.RootPath("/leak"), outside);
            var leak = await Cli("push", Write("leak.yaml", "manifest: leak\nresources:\n  - { id: f, type: file, path: /leak/owned, content: x }\n"), "--wait");
            Assert.Equal(1, leak.ExitCode);
            Assert.Contains("outside the root", leak.Out);
            Assert.Empty(Directory.EnumerateFileSystemEntries(outside));
        }
        finally
        {
            Directory.Delete(outside, recursive: true);
        }

        // Template code that tries to read a file: the apply fails; nothing of the file shows.
        var include = await Cli("push", Write("include.yaml",
            "manifest: include\nresources:\n  - { id: f, type: file, path: /inc, template: \"{% include '/etc/passwd' %}\" }\n"), "--wait");
        Assert.Equal(1, include.ExitCode);
        Assert.DoesNotContain("root:", include.Out);
        Assert.False(File.Exists(_node.RootPath("/inc")) && File.ReadAllText(_node.RootPath("/inc")).Contains("root:"));

        // Still running, still holding what it held.
        Assert.False(_node.HasExited);
        Assert.Equal(0, (await Cli("members")).ExitCode);
        var after = (await Cli("list", "--json")).Out;
        Assert.Contains(ExtractGood(listed), after);
        Assert.Equal("kept\n", File.ReadAllText(_node.RootPath("/good")));
    }

    private static string ExtractGood(string listJson)
    {
        var start = listJson.IndexOf("\"manifest\":\"good\"", StringComparison.Ordinal);
        Assert.True(start >= 0, listJson);
        var version = listJson.IndexOf("\"version\":\"", start, StringComparison.Ordinal);
        return listJson.Substring(version, listJson.IndexOf('"', version + 11) - version + 1);
    }

    private async Task Refused(string file, int exitCode, string where, string what)
    {
        var result = await Cli("push", file);
        Assert.True(result.ExitCode == exitCode, result.ToString());
        Assert.Contains(where, result.Err);
        Assert.Contains(what, result.Err);
        Assert.Contains("mesh:", result.Err);
    }

    public async Task InitializeAsync() => _node = await _nodes.StartAsync("solo");

    public async Task DisposeAsync() => await _nodes.DisposeAsync();
}
