using System.Text.RegularExpressions;

namespace Mesh.EndToEnd.Tests;

/// <summary>What a mesh-node refuses at start, with exit code 2 and a line that names the cause.</summary>
[Collection(SecondEndToEndLane.Name)]
public sealed class StartupTests : IAsyncLifetime
{
    private readonly NodeGroup _nodes = NodeGroup.InTempDirectory("mesh-e2e-startup-");

    [Fact]
    public async Task A_second_node_on_a_cluster_port_in_use_exits_2_naming_the_port_and_the_first_keeps_it()
    {
        var first = await _nodes.StartAsync("first");
        var port = int.Parse(Regex.Match(first.ClusterAddress, @":(\d+)$").Groups[1].Value);

        var second = await Binaries.RunAsync(Binaries.Node, null, _nodes.WorkDir,
            ["--name", "second", "--port", port.ToString(), "--api", $"127.0.0.1:{Binaries.FreePort()}", "--data-dir", Path.Combine(_nodes.WorkDir, "second")],
            TimeSpan.FromSeconds(60));

        Assert.True(second.ExitCode == 2, second.ToString());
        Assert.Contains($"cluster port 127.0.0.1:{port} is already in use (another mesh-node?)", second.Printed);
        var members = await first.MembersAsync();
        Assert.Equal(["first"], members.Select(m => m.Name));
        Assert.Equal("up", members[0].Status);
    }

    [Fact]
    public async Task A_node_whose_configuration_turns_replicated_data_pruning_on_warns_at_start_and_one_on_the_defaults_does_not()
    {
        var plain = await _nodes.StartAsync("plain");
        var config = _nodes.Write("pruning.hocon", "akka.cluster.distributed-data.pruning-interval = 120s\n");
        var pruning = await _nodes.StartAsync("pruning", plain.ClusterAddress, extraArgs: ["--config", config]);

        const string warning = "WARNING: akka.cluster.distributed-data.pruning-interval is on";
        await ThreeNodeMesh.Until(() => Task.FromResult(pruning.Log.Contains(warning, StringComparison.Ordinal)), "the node with pruning on warns");
        Assert.Contains("set it to 0s", pruning.Log);
        // The start lines come together, after the one naming the node's address.
        await ThreeNodeMesh.Until(() => Task.FromResult(plain.Log.Contains("WARNING: no trusted signing keys", StringComparison.Ordinal)), "the plain node printed its start lines");
        Assert.DoesNotContain(warning, plain.Log);
    }

    [Fact]
    public async Task A_second_node_under_a_name_already_up_exits_2_naming_the_holder_and_the_first_refuses_it_and_keeps_working()
    {
        var first = await _nodes.StartAsync("web1");
        var manifest = _nodes.Write("names.yaml", "manifest: names\nresources:\n  - { id: f, type: file, path: /names, content: \"one\\n\" }\n");
        Assert.Equal(0, (await first.Cli("push", manifest, "--wait")).ExitCode);

        var secondData = Path.Combine(_nodes.WorkDir, "web1-again");
        // A custom fact only the newcomer has: had it written its facts under the name, the mesh would show it.
        Directory.CreateDirectory(Path.Combine(secondData, "facts.d"));
        File.WriteAllText(Path.Combine(secondData, "facts.d", "who"), "impostor=yes\n");
        var second = await Binaries.RunAsync(Binaries.Node, null, _nodes.WorkDir,
            ["--name", "web1", "--port", "0", "--api", $"127.0.0.1:{Binaries.FreePort()}", "--data-dir", secondData, "--seed", first.ClusterAddress],
            TimeSpan.FromSeconds(90));

        Assert.True(second.ExitCode == 2, second.ToString());
        Assert.Contains($"the name 'web1' is already used by the member at {first.ClusterAddress}", second.Printed);
        await ThreeNodeMesh.Until(() => Task.FromResult(first.Log.Contains("refused a node at ", StringComparison.Ordinal)
            && first.Log.Contains("it asked to join as 'web1'", StringComparison.Ordinal)), "the first node logs the refusal");
        var members = await first.MembersAsync();
        Assert.Equal(["web1"], members.Select(m => m.Name));
        Assert.Equal(first.ClusterAddress, members[0].Address);
        // Nothing the refused node gathered reached the mesh under the name: the facts are still the first's.
        var facts = await first.Cli("facts", "web1", "--json");
        Assert.True(facts.ExitCode == 0, facts.ToString());
        Assert.Contains("\"web1\"", facts.Out);
        Assert.DoesNotContain("impostor", facts.Out);

        _nodes.Write("names.yaml", "manifest: names\nresources:\n  - { id: f, type: file, path: /names, content: \"two\\n\" }\n");
        var pushed = await first.Cli("push", manifest, "--wait");
        Assert.True(pushed.ExitCode == 0, pushed.ToString());
        Assert.Equal("two\n", File.ReadAllText(first.RootPath("/names")));
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync() => _nodes.DisposeAsync().AsTask();
}
