using Mesh.Protocol.Api;

namespace Mesh.EndToEnd.Tests;

/// <summary>
/// A real network partition: three hosts (network namespaces joined by a bridge, each with its
/// own address), a mesh-node on each, driven by the real CLI from inside each host. One host is
/// cut off from the other two while both sides take a push of the same manifest; after healing,
/// every node ends on one head, with the same file on disk, and the losing revision is kept in
/// history, flagged, and reported by mesh status on every node.
/// </summary>
[Collection(EndToEndCollection.Name)]
public sealed class PartitionTests : IAsyncLifetime
{
    private static readonly TimeSpan Slow = TimeSpan.FromSeconds(90);

    private readonly NodeGroup _nodes = NodeGroup.InTempDirectory("mesh-e2e-partition-");
    private TestNetwork? _network;

    private string App(string content) =>
        _nodes.Write($"app-{content}.yaml", $"manifest: app\nresources:\n  - {{ id: conf, type: file, path: /app.conf, content: \"{content}\\n\" }}\n");

    private static string Content(NodeProcess node, string path) =>
        File.Exists(node.RootPath(path)) ? File.ReadAllText(node.RootPath(path)) : "";

    /// <summary>Three hosts a, b, c, a node on each, every node seeded with all three; returns once every node sees three members up.</summary>
    private async Task<(NodeProcess A, NodeProcess B, NodeProcess C)> StartMeshAsync(TimeSpan stableAfter)
    {
        var unavailable = TestNetwork.Unavailable;
        Skip.If(unavailable is not null, $"needs network namespaces: {unavailable}");
        _network = TestNetwork.Create("a", "b", "c");
        var config = _nodes.Write("partition.hocon", $"""
            # The split-brain resolver downs the unreachable side once membership has been stable
            # this long (20 s by default): set per test, so that a short partition heals before
            # it acts and a long one does not wait 20 s for it.
            akka.cluster.split-brain-resolver.stable-after = {(int)stableAfter.TotalSeconds}s
            # A push on the cut-off side waits this long for a quorum that cannot answer before it
            # is accepted locally (exit 7); 20 s by default, shorter here to keep the test short.
            mesh.push.ack-timeout = 8s
            """);
        var seeds = _network.Hosts.Select(h => $"{h.Address}:4710").ToArray();
        Task<NodeProcess> Start(string name) =>
            _nodes.StartInNamespaceAsync(name, _network[name].Namespace, _network[name].Address, seeds, ["--config", config]);

        // a is the first seed: it founds the mesh; b and c join it.
        var a = await Start("a");
        var others = await Task.WhenAll(Start("b"), Start("c"));
        await ThreeNodeMesh.Until(async () => (await Task.WhenAll(_nodes.Nodes.Select(n => n.MembersAsync())))
            .All(members => members.Count(m => m is { Status: "up", Reachable: true }) == 3), "every node sees three members up", Slow);
        return (a, others[0], others[1]);
    }

    private async Task<bool> SeesAllUp(NodeProcess node) =>
        await node.Cli("members", "--json") is { ExitCode: 0 } r && r.Json<MemberInfo[]>() is var members
        && members.Count(m => m is { Status: "up", Reachable: true }) == 3;

    private async Task<bool> SeesCutOff(NodeProcess node, params string[] names) =>
        await node.Cli("members", "--json") is { ExitCode: 0 } r
        && r.Json<MemberInfo[]>().Where(m => names.Contains(m.Name)).Count(m => !m.Reachable) == names.Length;

    private static async Task<StatusReport> Status(NodeProcess node) => (await node.Cli("status", "--json")).Json<StatusReport>();

    private async Task Push(NodeProcess via, string file, string message, params string[] flags)
    {
        var push = await via.Cli(["push", file, "-m", message, .. flags]);
        Assert.True(push.ExitCode == 0, push.ToString());
    }

    /// <summary>A push through a node cut off from the others: accepted there, but said not to be replicated (exit 7).</summary>
    private static async Task PushNotReplicated(NodeProcess via, string file, string message)
    {
        var push = await via.Cli("push", file, "-m", message);
        Assert.True(push.ExitCode == 7, push.ToString());
        Assert.Contains($"accepted by {via.Name} only, not yet replicated to a majority: no peer reachable", push.Out);
    }

    /// <summary>What every node must agree on once the partition has healed: one head, one file, the loser kept and flagged.</summary>
    private async Task AssertHealedAsync(string winner, string loser)
    {
        foreach (var node in _nodes.Nodes)
            await ThreeNodeMesh.Until(async () => await SeesAllUp(node), $"{node.Name} sees all three up again", Slow);
        foreach (var node in _nodes.Nodes)
            await ThreeNodeMesh.Until(() => Task.FromResult(Content(node, "/app.conf") == $"{winner}\n"), $"{node.Name} applies the winner", Slow);

        var heads = new List<string>();
        foreach (var node in _nodes.Nodes)
        {
            var history = await ThreeNodeMesh.Until(async () => (await node.Cli("history", "app", "--json")).Json<HistoryEntry[]>() is var h && h.Length == 3 ? h : null,
                $"{node.Name} has all three revisions of app in history", Slow);
            var head = Assert.Single(history, h => h.Head);
            Assert.Equal(winner, head.Revision.Message);
            var lost = Assert.Single(history, h => h.Lost);
            Assert.Equal(loser, lost.Revision.Message);
            heads.Add(head.Revision.Version.ToString());

            var table = await node.Cli("history", "app");
            Assert.Matches($@"{lost.Revision.Version} \(lost\)", table.Out);

            var status = await ThreeNodeMesh.Until(async () => await Status(node) is { Offline: false, LostWrites.Length: 1 } s ? s : null,
                $"{node.Name} reports the lost write and is online", Slow);
            Assert.Equal(lost.Revision.Version, status.LostWrites[0].Revision.Version);
            Assert.Equal(head.Revision.Version, status.LostWrites[0].Winner.Version);
            Assert.Contains($"warning: lost write: app {lost.Revision.Version}", (await node.Cli("status")).Out);
        }
        Assert.Single(heads.Distinct());
    }

    private async Task AssertOfflineAndEnforcingAsync(NodeProcess cutOff, string content)
    {
        var status = await ThreeNodeMesh.Until(async () => await Status(cutOff) is { Offline: true } s ? s : null, $"{cutOff.Name} says it is offline", Slow);
        Assert.NotNull(status.OfflineSince);
        Assert.True(status.OfflineSince < DateTimeOffset.UtcNow);
        var table = await cutOff.Cli("status");
        Assert.Equal(1, table.ExitCode);
        Assert.Contains($"node {cutOff.Name} is offline since", table.Out);
        Assert.Contains("enforcing its last known state", table.Out);

        // Still enforcing: a managed file deleted while cut off comes back.
        File.Delete(cutOff.RootPath("/app.conf"));
        await ThreeNodeMesh.Until(() => Task.FromResult(Content(cutOff, "/app.conf") == $"{content}\n"),
            $"{cutOff.Name} repairs the deleted file while cut off", Slow);
    }

    [SkippableFact]
    public async Task A_short_partition_heals_before_the_resolver_acts_and_the_acknowledged_push_wins_over_the_later_unreplicated_one()
    {
        // Long enough that the resolver never acts while the test keeps c cut off.
        var (a, b, c) = await StartMeshAsync(stableAfter: TimeSpan.FromMinutes(3));
        Assert.Equal(0, (await a.Cli("push", App("base"), "-m", "base", "--wait")).ExitCode);

        _network!.Cut(_network["c"]);
        await ThreeNodeMesh.Until(() => SeesCutOff(a, "c"), "a sees c unreachable", Slow);
        await ThreeNodeMesh.Until(() => SeesCutOff(c, "a", "b"), "c sees a and b unreachable", Slow);

        // Both sides take a push of app, each naming base as its parent: neither sees the other's.
        await Push(a, App("majority"), "majority");
        await ThreeNodeMesh.Until(() => Task.FromResult(Content(a, "/app.conf") == "majority\n" && Content(b, "/app.conf") == "majority\n"),
            "a and b apply the majority's push", Slow);
        await PushNotReplicated(c, App("minority"), "minority");
        await ThreeNodeMesh.Until(() => Task.FromResult(Content(c, "/app.conf") == "minority\n"), "c applies its own push", Slow);
        Assert.StartsWith("no peer reachable", (await Status(c)).OfflineReason);
        await AssertOfflineAndEnforcingAsync(c, "minority");
        Assert.Contains("1 revision(s) accepted here while not replicated: app ", (await c.Cli("status")).Out);
        Assert.All(_nodes.Nodes, n => Assert.DoesNotContain("starting again", n.Log));

        _network.Heal(_network["c"]);

        // The minority pushed later, but only the majority's push was acknowledged: it wins, and
        // c's (exit 7) is kept in history, flagged lost, and leaves c's list of unreplicated changes.
        try
        {
            await AssertHealedAsync(winner: "majority", loser: "minority");
        }
        catch (TimeoutException e)
        {
            throw new TimeoutException($"{e.Message}\n{(await a.Cli("history", "app")).Out}\n" +
                string.Join("\n", _nodes.Nodes.Select(n => $"--- {n.Name}\n{n.Log}")), e);
        }
        await ThreeNodeMesh.Until(async () => await Status(c) is { Unreplicated: [] }, "c's push is settled: its status line goes", Slow);
        Assert.DoesNotContain("accepted here while not replicated", (await c.Cli("status")).Out);
        Assert.Contains("accepted here while not replicated, lost to", c.Log);
        Assert.All(_nodes.Nodes, n => Assert.DoesNotContain("starting again", n.Log));
    }

    [SkippableFact]
    public async Task A_long_partition_gets_the_minority_downed_it_comes_back_by_itself_and_nothing_it_took_is_lost()
    {
        var (a, b, c) = await StartMeshAsync(stableAfter: TimeSpan.FromSeconds(3));
        // Pushed through c: the others hold data c's first incarnation wrote, and c comes back as
        // another incarnation with what that first one wrote while cut off.
        Assert.Equal(0, (await c.Cli("push", App("base"), "-m", "base", "--wait")).ExitCode);

        _network!.Cut(_network["c"]);
        // c takes a push of app and of a manifest only it will know, before the resolver acts
        // (acknowledged locally: waiting for a quorum here would outlast the resolver's 3 s).
        await Push(c, App("minority"), "minority", "--ack", "local");
        var only = _nodes.Write("only-c.yaml", "manifest: only-c\nresources:\n  - { id: f, type: file, path: /only-c, content: \"pushed while cut off\\n\" }\n");
        await Push(c, only, "only on c", "--ack", "local");

        // The majority downs c; c finds itself downed and starts a new incarnation, which cannot reach anyone yet.
        await ThreeNodeMesh.Until(async () => (await a.MembersAsync()).All(m => m.Name != "c"), "a and b remove c", Slow);
        await ThreeNodeMesh.Until(() => Task.FromResult(c.Log.Contains("the cluster removed this node; starting again")), "c starts again", Slow);
        Assert.False(c.HasExited);
        await Push(a, App("majority"), "majority");
        await ThreeNodeMesh.Until(() => Task.FromResult(Content(a, "/app.conf") == "majority\n" && Content(b, "/app.conf") == "majority\n"),
            "a and b apply the majority's push", Slow);

        // The new incarnation answers on the same API address, reloaded its own push, and enforces it.
        var status = await ThreeNodeMesh.Until(async () => await Status(c) is { Offline: true, Manifests.Length: 2 } s ? s : null,
            "c's new incarnation answers and lists its manifests", Slow);
        Assert.StartsWith("not joined", status.OfflineReason);
        // It names every node it joins through, and what each answers: nothing, while cut off.
        Assert.Equal(new[] { a.ClusterAddress, b.ClusterAddress }.Order(StringComparer.Ordinal), status.Seeds!.Select(s => s.Address));
        Assert.All(status.Seeds!, s => Assert.Equal("no answer", s.Answer));
        Assert.Contains($"join through {a.ClusterAddress}: no answer since", (await c.Cli("status")).Out);
        Assert.All(status.Manifests, m => Assert.Equal("c", m.Node));
        Assert.Equal("minority", status.Manifests.Single(m => m.Manifest == "app").Head.Message);
        await AssertOfflineAndEnforcingAsync(c, "minority");

        _network.Heal(_network["c"]);

        // The majority pushed later and wins; c's push is kept and flagged; what only c had reaches everyone.
        await AssertHealedAsync(winner: "majority", loser: "minority");
        foreach (var node in _nodes.Nodes)
            await ThreeNodeMesh.Until(() => Task.FromResult(Content(node, "/only-c") == "pushed while cut off\n"),
                $"{node.Name} applies the manifest pushed on c while it was cut off", Slow);
        Assert.Contains("online again", c.Log);
        Assert.Equal(0, await c.StopAsync());
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        await _nodes.DisposeAsync();
        _network?.Dispose();
    }
}
