using Mesh.Protocol.Api;

namespace Mesh.EndToEnd.Tests;

/// <summary>
/// "Acknowledged means replicated", with real processes and the real CLI: a push the node
/// answered with exit 0 survives a kill -9 of that node right after; <c>--ack local</c> answers
/// without waiting for anyone.
/// </summary>
[Collection(EndToEndCollection.Name)]
public sealed class AcknowledgementTests : IAsyncLifetime
{
    private static readonly TimeSpan Slow = TimeSpan.FromSeconds(90);

    private readonly NodeGroup _nodes = NodeGroup.InTempDirectory("mesh-e2e-ack-");

    private string Conf(string name, string content) =>
        _nodes.Write($"{name}-{content}.yaml", $"manifest: {name}\nresources:\n  - {{ id: conf, type: file, path: /{name}.conf, content: \"{content}\\n\" }}\n");

    private static string Content(NodeProcess node, string path) =>
        File.Exists(node.RootPath(path)) ? File.ReadAllText(node.RootPath(path)) : "";

    private async Task<(NodeProcess A, NodeProcess B, NodeProcess C)> StartMeshAsync()
    {
        var a = await _nodes.StartAsync("a");
        var b = await _nodes.StartAsync("b", seed: a.ClusterAddress);
        var c = await _nodes.StartAsync("c", seed: a.ClusterAddress);
        await ThreeNodeMesh.Until(async () => (await Task.WhenAll(_nodes.Nodes.Select(n => n.MembersAsync())))
            .All(members => members.Count(m => m is { Status: "up", Reachable: true }) == 3), "every node sees three members up", Slow);
        return (a, b, c);
    }

    [Fact]
    public async Task A_push_acknowledged_by_a_node_killed_right_after_reaches_the_others_from_their_own_disks()
    {
        var (a, b, c) = await StartMeshAsync();

        var push = await c.Cli("push", Conf("durable", "acked"), "-m", "acked then killed");
        Assert.True(push.ExitCode == 0, push.ToString());
        await c.KillAsync();

        foreach (var node in new[] { a, b })
        {
            var history = await ThreeNodeMesh.Until(async () => await node.Cli("history", "durable", "--json") is { ExitCode: 0 } r
                    && r.Json<HistoryEntry[]>() is [{ Head: true } head] && head.Revision.Message == "acked then killed" ? r : null,
                $"{node.Name} has the revision in its history", Slow);
            Assert.Equal("c", history.Json<HistoryEntry[]>()[0].Revision.Origin);
            // The body comes from a peer other than c, which is down for good.
            await ThreeNodeMesh.Until(() => Task.FromResult(Content(node, "/durable.conf") == "acked\n"), $"{node.Name} applies it", Slow);
        }
        Assert.True(c.HasExited);
    }

    [Fact]
    public async Task Ack_local_answers_at_once_and_a_bad_ack_level_is_refused()
    {
        var (a, _, _) = await StartMeshAsync();

        var local = await a.Cli("push", Conf("quick", "local"), "--ack", "local", "--json");
        Assert.True(local.ExitCode == 0, local.ToString());
        Assert.Equal((AckLevel.Local, true), (local.Json<PushResponse>().Ack!.Wanted, local.Json<PushResponse>().Ack!.Reached));

        var all = await a.Cli("push", Conf("quick", "all"), "--ack", "all", "--json");
        Assert.True(all.ExitCode == 0, all.ToString());
        Assert.Equal(["b", "c"], all.Json<PushResponse>().Ack!.HeldBy);

        var bad = await a.Cli("push", Conf("quick", "bad"), "--ack", "often");
        Assert.Equal(2, bad.ExitCode);
        Assert.Contains("--ack 'often' is not one of local, majority, all", bad.Err);
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _nodes.DisposeAsync();
}
