namespace Mesh.EndToEnd.Tests;

/// <summary>
/// Shell completion offers the manifest and node names of a real running node, asking the node
/// the command line names, with the token the line names: a node with its API off loopback.
/// </summary>
[Collection(SecondEndToEndLane.Name)]
public sealed class CompletionTests : IAsyncLifetime
{
    private readonly NodeGroup _nodes = NodeGroup.InTempDirectory("mesh-e2e-completion-");
    private NodeProcess _node = null!;

    /// <summary>What <c>mesh __complete</c> offers after <paramref name="words"/>, without the descriptions.</summary>
    private async Task<string[]> Complete(params string[] words)
    {
        var result = await MeshCli.RunAsync(_nodes.WorkDir, ["__complete", "--", .. words]);
        Assert.True(result.ExitCode == 0 && result.Err == "", result.ToString());
        return result.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Split('\t')[0]).ToArray();
    }

    [Fact]
    public async Task Manifest_and_node_names_come_from_the_node_the_line_names()
    {
        string[] node = ["--api", _node.Api, "--token-file", _node.TokenFile];

        Assert.Equal(["motd", "mybox"], await Complete([.. node, "get", ""]));
        Assert.Equal(["mybox"], await Complete([.. node, "history", "my"]));
        Assert.Equal(["motd", "mybox"], await Complete([.. node, "rollback", ""]));
        Assert.Equal(["completer"], await Complete([.. node, "converge", ""]));
        Assert.Equal(["completer"], await Complete([.. node, "audit", "--node", ""]));
        // Without its token the node refuses, and completion offers nothing rather than an error.
        Assert.Empty(await Complete("--api", _node.Api, "get", ""));
    }

    [Fact]
    public async Task Bash_completes_a_manifest_name_through_the_script_and_MESH_API()
    {
        var bash = await RunBash("""
            source <(mesh completion bash)
            COMP_WORDS=(mesh --token-file "$TOKEN" status m) COMP_CWORD=4 COMP_LINE="mesh --token-file $TOKEN status m" COMP_POINT=${#COMP_LINE}
            _mesh
            printf '%s\n' "${COMPREPLY[@]}"
            """);

        Assert.Equal(["motd", "mybox"], bash.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries).Order().ToArray());
    }

    /// <summary>
    /// Runs <paramref name="script"/> in bash with <c>mesh</c> on its PATH (the CLI built beside
    /// the tests), MESH_API naming the node and TOKEN its token file.
    /// </summary>
    private async Task<ProcessResult> RunBash(string script)
    {
        var bin = Directory.CreateDirectory(Path.Combine(_nodes.WorkDir, "bin")).FullName;
        var mesh = Path.Combine(bin, "mesh");
        var program = Binaries.Cli.EndsWith(".dll", StringComparison.Ordinal) ? $"dotnet '{Binaries.Cli}'" : $"'{Binaries.Cli}'";
        await File.WriteAllTextAsync(mesh, $"#!/bin/sh\nexec {program} \"$@\"\n");
        File.SetUnixFileMode(mesh, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var result = await Binaries.RunToExitAsync("bash", ["--norc", "-c", script], TimeSpan.FromSeconds(60), new Dictionary<string, string>
        {
            ["PATH"] = $"{bin}:{Environment.GetEnvironmentVariable("PATH")}",
            ["MESH_API"] = _node.Api,
            ["TOKEN"] = _node.TokenFile,
        });
        Assert.True(result.ExitCode == 0 && result.Err == "", result.ToString());
        return result;
    }

    public async Task InitializeAsync()
    {
        _node = await _nodes.StartAsync("completer", apiHost: "0.0.0.0");
        var mybox = _nodes.Write("mybox.yaml", "manifest: mybox\nresources:\n  - { id: f, type: file, path: /box, content: \"box\\n\" }\n");
        var pushed = await _node.Cli("--token-file", _node.TokenFile, "push", Path.Combine(Binaries.RepoRoot, "examples", "motd.yaml"), mybox);
        Assert.True(pushed.ExitCode == 0, pushed.ToString());
    }

    public async Task DisposeAsync() => await _nodes.DisposeAsync();
}
