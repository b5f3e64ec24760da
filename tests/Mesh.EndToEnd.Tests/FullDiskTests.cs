using Mesh.Node.Tests.Support;

namespace Mesh.EndToEnd.Tests;

/// <summary>A real node whose data directory is on a small, full file system: pushes are refused with the reason, the node keeps answering, and takes pushes again once there is room.</summary>
[Collection(SecondEndToEndLane.Name)]
public sealed class FullDiskTests
{
    [SkippableFact]
    public async Task A_push_to_a_node_with_a_full_data_directory_fails_naming_it_and_succeeds_once_space_is_freed()
    {
        Skip.If(SmallDisk.Unavailable is not null, SmallDisk.Unavailable);
        using var disk = new SmallDisk(8 * 1024);
        await using var nodes = NodeGroup.In(disk.Path);
        var node = await nodes.StartAsync("small");
        string App(string content) =>
            nodes.Write($"app-{content}.yaml", $"manifest: app\nresources:\n  - {{ id: conf, type: file, path: /app.conf, content: \"{content}\\n\" }}\n");
        var one = App("one");
        var two = App("two");
        Assert.Equal(0, (await node.Cli("push", one, "--wait")).ExitCode);
        var filler = disk.Fill();

        var refused = await node.Cli("push", two, "--force");

        Assert.NotEqual(0, refused.ExitCode);
        Assert.Contains($"no space left on device writing {Path.Combine(node.DataDir, "blobs")}/", refused.Printed);
        Assert.False(node.HasExited);
        var status = await node.Cli("status", "app");
        Assert.Equal(0, status.ExitCode);
        Assert.Equal("one\n", File.ReadAllText(node.RootPath("/app.conf")));

        File.Delete(filler);
        var pushed = await node.Cli("push", two, "--force", "--wait");
        Assert.True(pushed.ExitCode == 0, pushed.ToString());
        Assert.Equal("two\n", File.ReadAllText(node.RootPath("/app.conf")));
    }
}
