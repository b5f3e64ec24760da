using Mesh.Node.Tests.Support;
using Mesh.Protocol.Api;

namespace Mesh.Node.Tests.Cluster;

[Collection(ClusterCollection.Name)]
public sealed class DurabilityTests : IAsyncLifetime
{
    private readonly TestMesh _mesh = new();

    private const string Motd = """
        manifest: motd
        resources:
          - { id: etc, type: directory, path: /etc }
          - { id: motd, type: file, path: /etc/motd, content: "kept\n", requires: [etc] }
        """;

    [Fact]
    public async Task A_node_restarted_alone_still_knows_its_manifests_and_repairs_from_them()
    {
        var first = _mesh.Start("solo", extraHocon: "mesh.converge { interval = 10m, watch = on }");
        await _mesh.Converged();
        var pushed = await first.Revisions.PushAsync(new PushRequest([new ManifestFile("motd.yaml", Motd)], "keep this", "tester"));
        await Eventually.Value(async () => (await first.Queries.StatusAsync("motd")).Manifests.FirstOrDefault(s => s.State == "ok"), "motd applied");
        var motd = _mesh.RootOf(first, "/etc/motd");
        await first.DisposeAsync();

        File.Delete(motd);
        var again = _mesh.Start("solo", extraHocon: "mesh.converge { interval = 10m, watch = on }");

        var index = await again.Store.IndexAsync();
        Assert.Equal(pushed.Revisions[0].Revision.Version, index["motd"].Version);
        Assert.Equal("keep this", index["motd"].Message);
        await Eventually.True(() => File.Exists(motd), "the restarted node restores the deleted file with no peer to ask");
        Assert.Equal("kept\n", File.ReadAllText(motd));
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _mesh.DisposeAsync();
}
