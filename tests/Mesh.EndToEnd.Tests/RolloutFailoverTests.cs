using Mesh.Protocol.Api;

namespace Mesh.EndToEnd.Tests;

/// <summary>Nobody drives a rollout: kill -9 of the node that took the push, mid-rollout, changes nothing.</summary>
[Collection(SecondEndToEndLane.Name)]
public sealed class RolloutFailoverTests(FourNodeMesh mesh) : IClassFixture<FourNodeMesh>
{
    [Fact]
    public async Task Killing_the_node_that_took_the_push_while_batch_2_runs_does_not_stop_the_rollout()
    {
        string Site(string text) => mesh.Write($"site-{text}.yaml",
            $"manifest: site-kill\nresources:\n  - {{ id: page, type: file, path: /site-kill, content: \"{text}\\n\" }}\n" +
            // The check settles for 3s: long enough to catch batch 2 under way.
            "rollout:\n  batches: [1, 2, 100%]\n  steps:\n    health: { command: 'grep -q " + text + " \"$MESH_ROOT/site-kill\"', settle: 3s }\n");
        var n1 = mesh["n1"];
        Assert.Equal(0, (await n1.Cli("push", Site("one"))).ExitCode);
        await ThreeNodeMesh.Until(async () => (await mesh["n2"].Cli("rollout", "status", "site-kill", "--json")).Json<RolloutStatus>().Phase == "completed",
            "the first rollout completes", TimeSpan.FromSeconds(90));

        Assert.Equal(0, (await n1.Cli("push", Site("two"))).ExitCode);
        await ThreeNodeMesh.Until(async () => (await mesh["n2"].Cli("rollout", "status", "site-kill", "--json")).Json<RolloutStatus>()
            .Batches[1].Nodes.Any(n => n.Step is "applying" or "checking"), "batch 2 under way", TimeSpan.FromSeconds(60));
        await n1.KillAsync();

        var done = await ThreeNodeMesh.Until(async () =>
                (await mesh["n3"].Cli("rollout", "status", "site-kill", "--json")).Json<RolloutStatus>() is { Over: true } s ? s : null,
            "the rollout ends without the pusher", TimeSpan.FromSeconds(120));
        Assert.Equal("completed", done.Phase);
        foreach (var name in new[] { "n2", "n3", "n4" }) Assert.Equal("two\n", RolloutMesh.Read(mesh[name], "/site-kill"));
    }
}
