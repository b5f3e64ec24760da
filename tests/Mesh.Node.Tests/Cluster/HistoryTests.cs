using Mesh.Node.Tests.Support;
using Mesh.Protocol.Api;

namespace Mesh.Node.Tests.Cluster;

[Collection(ClusterCollection.Name)]
public sealed class HistoryTests : IAsyncLifetime
{
    private readonly TestMesh _mesh = new();

    private static PushRequest Motd(string text, string message) =>
        new([new ManifestFile("motd.yaml", $"manifest: motd\nresources:\n  - {{ id: motd, type: file, path: /motd, content: \"{text}\" }}\n")], message, "tester");

    [Fact]
    public async Task Every_revision_is_kept_up_to_the_retention_count_and_readable_from_any_node()
    {
        var a = _mesh.Start("a", extraHocon: "mesh.history.keep = 3");
        var b = _mesh.Start("b", extraHocon: "mesh.history.keep = 3");
        await _mesh.Converged();
        foreach (var i in Enumerable.Range(1, 5)) await a.Revisions.PushAsync(Motd($"v{i}", $"change {i}"));

        // Gossip may show b an earlier three first (changes 2 to 4): wait for the last one.
        var history = await Eventually.Value(async () => await b.Store.HistoryAsync("motd") is { Count: 3 } h && h[0].Message == "change 5" ? h : null,
            "b sees the three latest revisions retained");
        Assert.Equal(["change 5", "change 4", "change 3"], history.Select(r => r.Message));

        var third = history[2];
        Assert.Equal(third, await b.Revisions.FindAsync("motd", third.Version.ToString()));
        Assert.Equal(third, await b.Revisions.FindAsync("motd", third.Hash[..8]));
        Assert.Null(await b.Revisions.FindAsync("motd", "999"));
        var old = await b.Queries.GetAsync("motd", third.Hash[..8]);
        Assert.Contains("v3", old!.Canonical);
    }

    [Fact]
    public async Task Rollback_from_another_node_makes_the_old_content_current_everywhere_as_a_new_revision()
    {
        var a = _mesh.Start("a");
        var b = _mesh.Start("b");
        await _mesh.Converged();
        var first = (await a.Revisions.PushAsync(Motd("good", "good"))).Revisions[0].Revision;
        await a.Revisions.PushAsync(Motd("bad", "bad"));
        await Eventually.True(() => File.Exists(_mesh.RootOf(b, "/motd")) && File.ReadAllText(_mesh.RootOf(b, "/motd")) == "bad", "b applied the bad revision");
        await Eventually.True(() => b.Store.HistoryAsync("motd").Result.Count == 2, "b sees both revisions");

        var rolled = await b.Revisions.RollbackAsync("motd", first.Version.ToString(), "tester");

        var revision = Assert.Single(rolled!.Revisions).Revision;
        Assert.Equal(first.Hash, revision.Hash);
        Assert.True(revision.Version > first.Version);
        Assert.Equal("b", revision.Origin);
        Assert.Equal($"rollback to {first.Version}", revision.Message);
        foreach (var node in new[] { a, b })
            await Eventually.True(() => File.ReadAllText(_mesh.RootOf(node, "/motd")) == "good", $"{node.Settings.Name} rolled back");
        Assert.Equal(3, (await b.Store.HistoryAsync("motd")).Count);
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _mesh.DisposeAsync();
}
