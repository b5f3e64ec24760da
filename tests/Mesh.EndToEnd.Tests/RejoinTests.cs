namespace Mesh.EndToEnd.Tests;

/// <summary>A node the cluster removed starts again by itself and rejoins; only a stop signal ends mesh-node.</summary>
[Collection(EndToEndCollection.Name)]
public sealed class RejoinTests : IAsyncLifetime
{
    private readonly NodeGroup _nodes = NodeGroup.InTempDirectory("mesh-e2e-rejoin-");

    private Task<NodeProcess> Start(string name, NodeProcess? seed = null)
    {
        // The split-brain resolver downs the unreachable side once membership has been stable
        // for stable-after: 20 s by default, shortened here so the test does not sit through it.
        var config = _nodes.Write("fast-downing.hocon", "akka.cluster.split-brain-resolver.stable-after = 2s\n");
        return _nodes.StartAsync(name, seed: seed?.ClusterAddress, extraArgs: ["--config", config]);
    }

    private string Motd(string text) =>
        _nodes.Write("motd.yaml", $"manifest: motd\nresources:\n  - {{ id: f, type: file, path: /motd, content: \"{text}\\n\" }}\n");

    [Fact]
    public async Task A_node_the_cluster_downed_rejoins_by_itself_with_its_api_on_the_same_address_and_still_stops_cleanly()
    {
        var a = await Start("a");
        var joining = new[] { Start("b", a), Start("c", a) };
        var (b, c) = (await joining[0], await joining[1]);
        await ThreeNodeMesh.Until(async () => (await a.MembersAsync()).Count(m => m.Status == "up") == 3, "three members up");
        Assert.Equal(0, (await a.Cli("push", Motd("one"), "--wait")).ExitCode);

        // A hung host: the others mark it unreachable, then the majority downs and removes it.
        c.Freeze();
        await ThreeNodeMesh.Until(async () => (await a.MembersAsync()).All(m => m.Name != "c"), "the majority removes the frozen c",
            TimeSpan.FromSeconds(60));
        Assert.Equal(0, (await a.Cli("push", Motd("two"))).ExitCode);
        c.Thaw();

        try
        {
            // Removed by the others, or (when it notices its own pause first) ahead of them: either way it starts again.
            await ThreeNodeMesh.Until(() => Task.FromResult(c.Log.Contains("; starting again and rejoining through")),
                "c finds itself removed and starts again", TimeSpan.FromSeconds(60));
        }
        catch (TimeoutException e)
        {
            throw new TimeoutException($"{e.Message}\n--- c\n{c.Log}");
        }
        await ThreeNodeMesh.Until(async () => (await a.MembersAsync()).Any(m => m is { Name: "c", Status: "up", Reachable: true }),
            "c's new incarnation is up on a", TimeSpan.FromSeconds(60));
        await ThreeNodeMesh.Until(() => Task.FromResult(File.ReadAllText(c.RootPath("/motd")) == "two\n"), "c catches up with the push it missed");
        // a sees c up before c's own view of the membership says it joined: wait for c to know it.
        ProcessResult status = null!;
        await ThreeNodeMesh.Until(async () => (status = await c.Cli("status", "motd")).ExitCode == 0,
            "c's status no longer says offline");
        Assert.Matches(@"c\s+motd\s+ok", status.Out);
        Assert.DoesNotContain("offline", status.Out);
        Assert.False(c.HasExited);
        // Through the others it knew, never through itself (that would found a second mesh).
        var through = c.Log.Split('\n').Single(l => l.Contains("rejoining through")).Split("rejoining through ")[1].Trim().Split(", ");
        Assert.Equal(new[] { a.ClusterAddress, b.ClusterAddress }.Order(StringComparer.Ordinal), through.Order(StringComparer.Ordinal));

        Assert.Equal(0, await c.StopAsync());
        Assert.True(c.Log.Contains("leaving the cluster"), c.Log);
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _nodes.DisposeAsync();
}
