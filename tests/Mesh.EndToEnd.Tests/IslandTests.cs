using Mesh.Protocol.Api;
using Xunit.Abstractions;

namespace Mesh.EndToEnd.Tests;

/// <summary>
/// Starved nodes (SIGSTOP for longer than the failure detector's acceptable pause and the
/// resolver's stable-after) are removed, but once the starvation ends every node is in one
/// mesh again: none founds a mesh of its own, and none waits forever for another to form one.
/// </summary>
[Collection(EndToEndCollection.Name)]
public sealed class IslandTests(ITestOutputHelper output) : IAsyncLifetime
{
    /// <summary>The bound ARCHITECTURE and OPERATIONS state for one mesh again after the starvation ends.</summary>
    private static readonly TimeSpan OneMeshWithin = TimeSpan.FromSeconds(60);

    /// <summary>How long the first burst starves b and c.</summary>
    private static readonly TimeSpan Burst = TimeSpan.FromSeconds(22);

    private readonly NodeGroup _nodes = NodeGroup.InTempDirectory("mesh-e2e-island-");

    private string Motd(string text) =>
        _nodes.Write($"motd-{text}.yaml", $"manifest: motd\nresources:\n  - {{ id: f, type: file, path: /motd, content: \"{text}\\n\" }}\n");

    private static async Task<bool> SeesAllUp(NodeProcess node, int count)
    {
        try
        {
            return (await node.MembersAsync()).Count(m => m is { Status: "up", Reachable: true }) == count && await node.StatusAsync() is { Offline: false };
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            return false; // between two incarnations
        }
    }

    [Fact]
    public async Task After_bursts_of_starvation_longer_than_the_others_wait_every_node_is_in_one_mesh_again_and_a_push_reaches_all()
    {
        // The resolver acts after 3 s of stable unreachability instead of 20 s, so that a burst
        // longer than the failure detector's pause (10 s) plus that stays short.
        var config = _nodes.Write("fast-downing.hocon", "akka.cluster.split-brain-resolver.stable-after = 3s\n");
        var aStartedAgain = false;
        string[] args = ["--config", config];
        // Fixed cluster ports, as on real hosts: a new incarnation listens where its old one did,
        // so the addresses every node knows stay good (on port 0 each would move to a new one).
        var a = await _nodes.StartAsync("a", extraArgs: args, clusterPort: Binaries.FreePort());
        var b = await _nodes.StartAsync("b", seed: a.ClusterAddress, extraArgs: args, clusterPort: Binaries.FreePort());
        var c = await _nodes.StartAsync("c", seed: a.ClusterAddress, extraArgs: args, clusterPort: Binaries.FreePort());
        await ThreeNodeMesh.Until(async () => (await Task.WhenAll(_nodes.Nodes.Select(n => SeesAllUp(n, 3)))).All(x => x), "three members up", TimeSpan.FromSeconds(60));
        Assert.Equal(0, (await a.Cli("push", Motd("one"), "--wait")).ExitCode);

        try
        {
            // Burst 1: two of three starve. a, alone, is the minority and downs itself, when its
            // failure detector gives up both within stable-after of each other; when it gives up
            // one first, a and the other are the majority and down it, and a, then one of two,
            // keeps the mesh on the tie-break (the lower address) and downs the other: a stays, an
            // island only until they come back. Either way b and c, thawed, find they were paused
            // past the others' patience (or quarantined by a), and start again.
            var frozen = System.Diagnostics.Stopwatch.StartNew();
            b.Freeze();
            c.Freeze();
            await ThreeNodeMesh.Until(async () => a.Log.Contains("; starting again and rejoining through") ||
                    await Lists(a) is { } members && members.All(m => m.Name == "a"),
                "a downs itself and starts again, or removes both", TimeSpan.FromSeconds(90));
            aStartedAgain = a.Log.Contains("; starting again and rejoining through");
            // The fault, not a wait for something: the burst lasts well past what PauseWatch
            // tolerates (10 s + 3 s + its tick), so that b and c, too, start again.
            if (Burst - frozen.Elapsed is { Ticks: > 0 } rest) await Task.Delay(rest);
            b.Thaw();
            c.Thaw();
            await ThreeNodeMesh.Until(() => Task.FromResult(new[] { b, c }.All(n => n.Log.Contains("starting again and rejoining through"))),
                "b and c start again", TimeSpan.FromSeconds(90));

            // Burst 2, before the mesh has settled: c starves again, for as long.
            await ThreeNodeMesh.Until(async () => await SeesAllUp(a, 2) || await SeesAllUp(a, 3), "a is in a mesh again", OneMeshWithin);
            c.Freeze();
            await ThreeNodeMesh.Until(async () => await Lists(a) is { } members && members.All(m => m.Name != "c"), "a and b remove the frozen c", TimeSpan.FromSeconds(90));
            c.Thaw();
        }
        catch (TimeoutException e)
        {
            throw WithLogs(e);
        }
        finally
        {
            foreach (var node in _nodes.Nodes) node.Thaw();
        }

        // The starvation is over: one mesh again, within the stated bound, and a push reaches all.
        var clock = System.Diagnostics.Stopwatch.StartNew();
        try
        {
            await ThreeNodeMesh.Until(async () => (await Task.WhenAll(_nodes.Nodes.Select(n => SeesAllUp(n, 3)))).All(x => x),
                "every node lists every other up and reachable, and is online", OneMeshWithin);
        }
        catch (TimeoutException e)
        {
            throw WithLogs(e);
        }
        output.WriteLine($"one mesh again {clock.Elapsed.TotalSeconds:0.0} s after the last thaw");
        // When the first burst downed every member, exactly one node formed the mesh again; when a
        // kept it, the others joined a and none formed another.
        Assert.Equal(aStartedAgain ? 1 : 0, _nodes.Nodes.Count(n => n.Log.Contains("forms the mesh again")));
        output.WriteLine(aStartedAgain ? "burst 1: a downed itself, every member started again" : "burst 1: a removed b and c one after the other and kept the mesh");
        var push = await b.Cli("push", Motd("two"), "--wait");
        Assert.True(push.ExitCode == 0, push.ToString());
        Assert.All(_nodes.Nodes, n => Assert.Equal("two\n", File.ReadAllText(n.RootPath("/motd"))));
    }

    /// <summary>The members a node lists, or null while it is between two incarnations (its API not answering for a moment).</summary>
    private static async Task<MemberInfo[]?> Lists(NodeProcess node)
    {
        try
        {
            return await node.MembersAsync();
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            return null;
        }
    }

    private TimeoutException WithLogs(TimeoutException e) =>
        new(string.Join("\n", new[] { e.Message }.Concat(_nodes.Nodes.Select(n => $"--- {n.Name}\n{n.Log}"))), e);

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _nodes.DisposeAsync();
}
