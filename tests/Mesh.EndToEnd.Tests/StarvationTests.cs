using Xunit.Abstractions;

namespace Mesh.EndToEnd.Tests;

/// <summary>
/// Slow is not failed: on hosts starved of CPU (a build, a backup, a noisy neighbour) every push
/// still succeeds, only later. Bodies that cannot be fetched at once are retried and reported
/// pending, a busy store gets its longer deadline, and push --wait waits past pending.
/// </summary>
[Collection(SecondEndToEndLane.Name)]
public sealed class StarvationTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const int Pushes = 3;
    private readonly NodeGroup _nodes = NodeGroup.InTempDirectory("mesh-starved-");

    private static string Motd(int n) => $"""
        manifest: starved
        resources:
          - {"{"} id: motd, type: file, path: /starved.txt, content: "push {n}\n" {"}"}
        """;

    [Fact]
    public async Task Under_cpu_starvation_every_push_of_a_series_succeeds_and_every_node_ends_on_the_last_revision()
    {
        var a = await _nodes.StartAsync("a");
        var b = await _nodes.StartAsync("b", seed: a.ClusterAddress);
        var c = await _nodes.StartAsync("c", seed: a.ClusterAddress);
        NodeProcess[] all = [a, b, c];
        await ThreeNodeMesh.Until(async () => (await Task.WhenAll(all.Select(n => n.MembersAsync()))).All(m => m.Count(x => x.Status == "up") == 3),
            "every node sees three members up", TimeSpan.FromSeconds(60));

        using var quota = new CpuQuota(percent: 10);
        output.WriteLine($"starving: {quota.How}");
        foreach (var node in all) quota.Starve(node.Pid);

        var started = DateTime.UtcNow;
        for (var n = 1; n <= Pushes; n++)
        {
            var via = all[(n - 1) % all.Length];
            var file = _nodes.Write($"starved-{n}.yaml", Motd(n));
            var push = await MeshCli.RunInAsync(null, _nodes.WorkDir, TimeSpan.FromMinutes(6),
                "--api", via.Api, "push", file, "--wait", "--timeout", "300s", "-m", $"push {n}");
            output.WriteLine($"push {n} via {via.Name}: exit {push.ExitCode} after {(DateTime.UtcNow - started).TotalSeconds:0}s\n{push.Printed}");
            Assert.True(push.ExitCode == 0,
                $"push {n} via {via.Name} exited {push.ExitCode}:\n{push.Printed}\n--- logs ---\n{string.Join("\n", all.Select(x => $"[{x.Name}]\n{Tail(x.Log)}"))}");
        }

        // Every node applied the last revision, seen from each node.
        foreach (var observer in all)
            await ThreeNodeMesh.Until(async () => (await observer.StatusAsync()).Manifests is { Length: 3 } status
                    && status.All(s => s.State == "ok" && s.Report!.Version.Equals(s.Head.Version) && s.Head.Message == $"push {Pushes}"),
                $"{observer.Name} to see every node ok on push {Pushes}", TimeSpan.FromMinutes(3));
        foreach (var node in all) Assert.Equal($"push {Pushes}\n", File.ReadAllText(node.RootPath("/starved.txt")));
    }

    private static string Tail(string log, int lines = 40) => string.Join("\n", log.Split('\n').TakeLast(lines));

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _nodes.DisposeAsync();
}
