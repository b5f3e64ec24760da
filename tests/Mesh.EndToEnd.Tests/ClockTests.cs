using Mesh.Protocol.Api;

namespace Mesh.EndToEnd.Tests;

/// <summary>A node whose clock is minutes ahead is named on every node and stamps its pushes with the mesh's time.</summary>
[Collection(SecondEndToEndLane.Name)]
public sealed class ClockTests : IAsyncLifetime
{
    private readonly NodeGroup _nodes = NodeGroup.InTempDirectory("mesh-e2e-clock-");

    [Fact]
    public async Task A_node_five_minutes_ahead_is_shown_by_status_and_stamps_its_pushes_with_the_mesh_time()
    {
        var fast = _nodes.Write("fast.hocon", "mesh.clock { offset = 5m, probe-interval = 1s }\n");
        var normal = _nodes.Write("normal.hocon", "mesh.clock.probe-interval = 1s\n");
        var a = await _nodes.StartAsync("a", extraArgs: ["--config", normal]);
        var b = await _nodes.StartAsync("b", seed: a.ClusterAddress, extraArgs: ["--config", normal]);
        var c = await _nodes.StartAsync("c", seed: a.ClusterAddress, extraArgs: ["--config", fast]);

        await ThreeNodeMesh.Until(() => Task.FromResult(c.Log.Contains("this node's clock (c) is 300 s ahead of the mesh's", StringComparison.Ordinal)),
            "the node ahead says it stamps with the mesh's time");
        await ThreeNodeMesh.Until(() => Task.FromResult(a.Log.Contains("node c's clock is 300 s ahead of this node's", StringComparison.Ordinal)),
            "a logs c's clock");
        var status = await ThreeNodeMesh.Until(async () => await a.Cli("status") is var s && s.Out.Contains(
            "clock: node c's clock is 300 s ahead of this node's; it stamps its versions with the mesh's time", StringComparison.Ordinal) ? s : null,
            "mesh status on a names c's clock");
        Assert.Equal(0, status.ExitCode);

        var manifest = _nodes.Write("clock.yaml", "manifest: clock\nresources:\n  - { id: f, type: file, path: /clock, content: \"on time\" }\n");
        var pushed = await c.Cli("push", manifest, "--wait");
        Assert.True(pushed.ExitCode == 0, pushed.ToString());
        var history = (await a.Cli("history", "clock", "--json")).Json<HistoryEntry[]>();
        var stamped = Assert.Single(history).Revision.Version.Time;
        Assert.InRange(stamped, DateTimeOffset.UtcNow - TimeSpan.FromMinutes(2), DateTimeOffset.UtcNow + TimeSpan.FromSeconds(30));
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync() => _nodes.DisposeAsync().AsTask();
}
