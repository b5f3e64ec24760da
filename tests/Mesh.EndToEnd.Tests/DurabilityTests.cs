namespace Mesh.EndToEnd.Tests;

/// <summary>What the mesh knows survives crashes and restarts of real processes.</summary>
[Collection(EndToEndCollection.Name)]
public sealed class DurabilityTests : IAsyncLifetime
{
    private readonly NodeGroup _nodes = NodeGroup.InTempDirectory("mesh-e2e-durable-");

    private Task<NodeProcess> Start(string name, NodeProcess? seed = null) => _nodes.StartAsync(name, seed: seed?.ClusterAddress);

    private string Series(int n) =>
        _nodes.Write($"series.yaml", $"manifest: series\nresources:\n  - {{ id: f, type: file, path: /series, content: \"revision {n}\\n\" }}\n");

    [Fact]
    public async Task A_node_killed_during_a_series_of_pushes_comes_back_with_its_data_and_converges_to_the_latest()
    {
        var a = await Start("a");
        var joining = new[] { Start("b", a), Start("c", a) };
        var (b, c) = (await joining[0], await joining[1]);
        Assert.Equal(0, (await a.Cli("push", Series(1), "--wait")).ExitCode);

        await c.KillAsync();
        foreach (var n in new[] { 2, 3, 4 })
            Assert.Equal(0, (await b.Cli("push", Series(n), "--force")).ExitCode);
        await ThreeNodeMesh.Until(() => Task.FromResult(File.ReadAllText(a.RootPath("/series")) == "revision 4\n"), "a applies revision 4");

        var back = await Start("c", a);

        await ThreeNodeMesh.Until(() => Task.FromResult(File.ReadAllText(back.RootPath("/series")) == "revision 4\n"), "c catches up after its restart");
        var history = await back.Cli("history", "series");
        Assert.Equal(0, history.ExitCode);
        Assert.Equal(4, history.Out.Split('\n').Count(l => l.Contains("@a") || l.Contains("@b")));
    }

    [Fact]
    public async Task A_whole_mesh_restart_loses_nothing_and_a_lone_node_repairs_from_what_it_kept()
    {
        var a = await Start("a");
        var b = await Start("b", a);
        Assert.Equal(0, (await a.Cli("push", Series(7), "-m", "kept across restarts", "--wait")).ExitCode);
        foreach (var node in _nodes.Nodes) Assert.Equal(0, await node.StopAsync());

        // Only b comes back, alone: no peer to ask for anything.
        File.Delete(b.RootPath("/series"));
        var lone = await Start("b");

        await ThreeNodeMesh.Until(() => Task.FromResult(File.Exists(lone.RootPath("/series"))), "the lone node restores the file from its own state");
        Assert.Equal("revision 7\n", File.ReadAllText(lone.RootPath("/series")));
        var list = await lone.Cli("list");
        Assert.Matches(@"series\s+\S+@a .*kept across restarts", list.Out);
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _nodes.DisposeAsync();
}
