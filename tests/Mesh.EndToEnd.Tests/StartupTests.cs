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
        Assert.Contains($"cluster port 127.0.0.1:{port}", second.Printed);
        var members = await first.MembersAsync();
        Assert.Equal(["first"], members.Select(m => m.Name));
        Assert.Equal("up", members[0].Status);
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync() => _nodes.DisposeAsync().AsTask();
}
