using Mesh.Node.Replication;
using Mesh.Node.Tests.Support;
using Mesh.Protocol.Api;

namespace Mesh.Node.Tests.Cluster;

/// <summary>A node's data directory torn or full: the node says so, keeps running, and gets back what it lost from its peers.</summary>
[Collection(ClusterCollection.Name)]
public sealed class DiskTests : IAsyncLifetime
{
    private readonly TestMesh _mesh = new();

    private static PushRequest App(string content, string? parent = null) => new(
        [new ManifestFile("app.yaml", $"manifest: app\nresources:\n  - {{ id: conf, type: file, path: /app.conf, content: \"{content}\\n\" }}\n")],
        content, "tester", Parents: parent is null ? null : new() { ["app"] = parent });

    private string Content(MeshNode node) => File.Exists(_mesh.RootOf(node, "/app.conf")) ? File.ReadAllText(_mesh.RootOf(node, "/app.conf")) : "";

    [Fact]
    public async Task A_node_whose_durable_files_are_torn_starts_sets_them_aside_and_gets_the_state_back_from_its_peers()
    {
        var a = _mesh.Start("a");
        _mesh.Start("b");
        var c = _mesh.Start("c");
        await _mesh.Converged();
        var first = (await a.Revisions.PushAsync(App("one"))).Revisions[0].Revision;
        var ddata = Path.Combine(c.Settings.DataDir, "ddata");
        var index = Path.Combine(ddata, Replicated.IndexOf("app").Id);
        var history = Path.Combine(ddata, Replicated.HistoryOf("app").Id);
        await Eventually.True(() => File.Exists(index) && File.Exists(history) && File.Exists(_mesh.RootOf(c, "/app.conf")), "c holds app on disk");
        await c.DisposeAsync();
        // Meanwhile the mesh moves on: what c must end with is only on its peers.
        var second = (await a.Revisions.PushAsync(App("two", first.Version.ToString()))).Revisions[0].Revision;

        File.WriteAllBytes(index, File.ReadAllBytes(index)[..7]);
        File.WriteAllBytes(history, Enumerable.Repeat((byte)0x5a, 300).ToArray());
        var again = _mesh.Start("c");
        await _mesh.Converged();

        // The durable store reads its files as the node starts, one key after the other.
        await Eventually.True(() => Directory.GetFiles(ddata, Path.GetFileName(index) + DurableStore.CorruptMark + "*").Length == 1
            && Directory.GetFiles(ddata, Path.GetFileName(history) + DurableStore.CorruptMark + "*").Length == 1, "c sets both torn files aside, once each");
        await Eventually.Value(async () => await again.Store.HeadAsync("app") is { } head && head.Version.Equals(second.Version) ? head : null, "c's index has the mesh's head again");
        await Eventually.Value(async () => await again.Store.HistoryAsync("app") is { Count: 2 } both ? both : null, "c's history has both revisions again");
        await Eventually.True(() => Content(again) == "two\n", "c applies the head");
        // What it got back is written again, under the key's own name.
        await Eventually.True(() => File.Exists(index) && File.Exists(history), "c wrote the keys again");
    }

    [SkippableFact]
    public async Task A_push_onto_a_full_data_directory_is_refused_naming_the_file_and_the_node_takes_pushes_again_once_there_is_room()
    {
        Skip.If(SmallDisk.Unavailable is not null, SmallDisk.Unavailable);
        using var disk = new SmallDisk(4096);
        var node = _mesh.Start("solo", extraHocon: $"mesh.data-dir = \"{disk["data"]}\"");
        await _mesh.Converged();
        var first = (await node.Revisions.PushAsync(App("one"))).Revisions[0].Revision;
        var filler = disk.Fill();

        var full = await Assert.ThrowsAsync<DiskFullException>(() => node.Revisions.PushAsync(App("two", first.Version.ToString())));

        Assert.StartsWith($"no space left on device writing {disk["data/blobs"]}/", full.Message);
        Assert.Equal(first.Version, (await node.Store.HeadAsync("app"))!.Version);
        Assert.Empty(Directory.GetFiles(disk["data/blobs"], ".*"));
        Assert.Empty(Directory.GetFiles(disk["data/ddata"], ".*"));

        File.Delete(filler);
        var second = (await node.Revisions.PushAsync(App("two", first.Version.ToString()))).Revisions[0].Revision;
        Assert.Equal(second.Version, (await node.Store.HeadAsync("app"))!.Version);
        await Eventually.True(() => Content(node) == "two\n", "the node applies the push");
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _mesh.DisposeAsync();
}
