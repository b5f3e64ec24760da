using Mesh.Node.Tests.Support;
using Mesh.Protocol.Api;

namespace Mesh.Node.Tests.Cluster;

/// <summary>Two manifests that declare one path on one node: the second fails, naming both, and the two never take turns at the file.</summary>
[Collection(ClusterCollection.Name)]
public sealed class SharedPathTests : IAsyncLifetime
{
    private readonly TestMesh _mesh = new();

    private static PushRequest Manifest(string name) => new(
        [new ManifestFile($"{name}.yaml", $"manifest: {name}\nresources:\n  - {{ id: shared, type: file, path: /shared.conf, content: \"{name}\\n\" }}\n  - {{ id: own, type: file, path: /{name}.conf, content: \"{name}\\n\" }}\n")],
        null, "tester");

    private static async Task<NodeStatus> State(MeshNode node, string manifest, string state) =>
        await Eventually.Value(async () => (await node.Queries.StatusAsync(manifest)).Manifests.FirstOrDefault(s => s.State == state), $"{manifest} {state}");

    [Fact]
    public async Task The_second_manifest_on_a_path_fails_naming_both_and_re_checks_leave_the_file_to_the_first()
    {
        var node = _mesh.Start("solo", extraHocon: "mesh.converge { interval = 10m, watch = off }");
        await _mesh.Converged();
        await node.Revisions.PushAsync(Manifest("first"));
        await State(node, "first", "ok");

        await node.Revisions.PushAsync(Manifest("second"));

        var failed = await State(node, "second", "failed");
        Assert.Contains("/shared.conf is already managed by manifest 'first' on this node; 'second' cannot manage it too", failed.Report!.Error);
        Assert.Equal("second\n", File.ReadAllText(_mesh.RootOf(node, "/second.conf")));
        Assert.Equal("first\n", File.ReadAllText(_mesh.RootOf(node, "/shared.conf")));

        // A re-check of both (one batch); the hand edit makes the second's re-check report, so the test knows it ran.
        File.WriteAllText(_mesh.RootOf(node, "/second.conf"), "edited\n");
        await node.Fleet.ConvergeAsync(node.Settings.Name);
        var rechecked = await Eventually.Value(async () => (await node.Queries.StatusAsync("second")).Manifests.FirstOrDefault(s => s.Report?.Drift == true), "second re-checked");
        Assert.Equal("failed", rechecked.State);
        Assert.Equal("second\n", File.ReadAllText(_mesh.RootOf(node, "/second.conf")));
        Assert.Equal("first\n", File.ReadAllText(_mesh.RootOf(node, "/shared.conf")));
        Assert.Equal("ok", (await node.Queries.StatusAsync("first")).Manifests.Single().State);
        Assert.Equal("failed", (await node.Queries.StatusAsync("second")).Manifests.Single().State);
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _mesh.DisposeAsync();
}
