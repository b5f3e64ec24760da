using Mesh.Node.Tests.Support;
using Mesh.Protocol.Api;

namespace Mesh.Node.Tests.Cluster;

/// <summary><c>mesh delete</c>: a tombstone revision ends a manifest everywhere; its files stay; history keeps it all.</summary>
[Collection(ClusterCollection.Name)]
public sealed class DeletionTests : IAsyncLifetime
{
    private readonly TestMesh _mesh = new();

    private static PushRequest Motd(string text) =>
        new([new ManifestFile("motd.yaml", $"manifest: motd\nresources:\n  - {{ id: motd, type: file, path: /motd, content: \"{text}\" }}\n")], text, "tester");

    [Fact]
    public async Task A_deleted_manifest_is_no_longer_enforced_anywhere_its_files_stay_and_a_rollback_brings_it_back()
    {
        var a = _mesh.Start("a");
        var b = _mesh.Start("b");
        await _mesh.Converged();
        var head = (await a.Revisions.PushAsync(Motd("hello"))).Revisions[0].Revision;
        await Eventually.True(() => File.Exists(_mesh.RootOf(b, "/motd")), "b applied motd");

        var deleted = (await b.Revisions.DeleteAsync("motd", new DeleteRequest(head.Version.ToString(), "retired", "tester")))!.Revisions[0].Revision;

        Assert.True(deleted.Deleted);
        Assert.Equal(head.Version.ToString(), deleted.Parent);
        await Eventually.True(() => a.Store.IndexAsync().Result["motd"].Deleted, "a sees the tombstone");
        Assert.Empty((await a.Queries.StatusAsync(null)).Manifests);
        Assert.Null(await a.Queries.GetAsync("motd"));
        foreach (var node in new[] { a, b })
            await Eventually.True(() => !node.Store.ReportsOfAsync(node.Settings.Name).Result.ContainsKey("motd"), $"{node.Settings.Name} dropped its report on motd");

        // Not enforced any more: a hand edit stays.
        foreach (var node in new[] { a, b })
        {
            File.WriteAllText(_mesh.RootOf(node, "/motd"), "mine now");
            await node.Fleet.ConvergeAsync(node.Settings.Name);
        }
        await Eventually.True(() => a.Fleet.AuditAsync("a", null, 100).Result.Any(e => e.Kind == "deleted"), "a recorded the deletion");
        Assert.Equal("mine now", File.ReadAllText(_mesh.RootOf(a, "/motd")));
        Assert.True(File.Exists(_mesh.RootOf(b, "/motd")));

        var history = await Eventually.Value(async () => await a.Store.HistoryAsync("motd") is { Count: 2 } h ? h : null, "a's history holds the deletion");
        Assert.Equal([true, false], history.Select(r => r.Deleted));
        await Assert.ThrowsAsync<ArgumentException>(() => a.Revisions.RollbackAsync("motd", deleted.Version.ToString(), "tester"));

        await a.Revisions.RollbackAsync("motd", head.Version.ToString(), "tester");
        foreach (var node in new[] { a, b })
            await Eventually.True(() => File.ReadAllText(_mesh.RootOf(node, "/motd")) == "hello", $"{node.Settings.Name} enforces motd again");
    }

    [Fact]
    public async Task Deleting_over_a_head_that_moved_on_is_refused_and_a_deleted_name_can_be_pushed_again()
    {
        var a = _mesh.Start("a");
        await _mesh.Converged();
        var first = (await a.Revisions.PushAsync(Motd("one"))).Revisions[0].Revision;
        await a.Revisions.PushAsync(Motd("two"));

        await Assert.ThrowsAsync<PushConflictException>(() => a.Revisions.DeleteAsync("motd", new DeleteRequest(first.Version.ToString(), null, "tester")));
        Assert.Null(await a.Revisions.DeleteAsync("nothing", new DeleteRequest("", null, "tester")));
        var head = (await a.Store.IndexAsync())["motd"];
        await a.Revisions.DeleteAsync("motd", new DeleteRequest(head.Version.ToString(), null, "tester"));

        // A push that believes the manifest new ("" parent) is not a conflict with a tombstone.
        var again = await a.Revisions.PushAsync(Motd("three") with { Parents = new() { ["motd"] = "" } });
        Assert.False(again.Revisions[0].Unchanged);
        await Eventually.True(() => File.ReadAllText(_mesh.RootOf(a, "/motd")) == "three", "a enforces the new motd");
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _mesh.DisposeAsync();
}
