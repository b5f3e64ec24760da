namespace Mesh.EndToEnd.Tests;

/// <summary>A control API off loopback requires the token its node wrote, with the real CLI and a real node.</summary>
[Collection(SecondEndToEndLane.Name)]
public sealed class ApiTokenTests : IAsyncLifetime
{
    private readonly NodeGroup _nodes = NodeGroup.InTempDirectory("mesh-e2e-token-");
    private NodeProcess _node = null!;

    private Task<ProcessResult> Cli(params string[] args) => _node.Cli(args);

    [Fact]
    public async Task Off_loopback_the_api_refuses_a_missing_or_wrong_token_and_accepts_the_one_in_the_data_dir()
    {
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(_node.TokenFile));
        Assert.Matches("^[0-9a-f]{64}$", File.ReadAllText(_node.TokenFile).Trim());

        var missing = await Cli("members");
        Assert.Equal(6, missing.ExitCode);
        Assert.Contains("requires its token", missing.Err);
        Assert.Contains(_node.TokenFile, missing.Err);

        var wrongFile = _nodes.Write("wrong-token", new string('0', 64));
        Assert.Equal(6, (await Cli("--token-file", wrongFile, "members")).ExitCode);
        var manifest = _nodes.Write("t.yaml", "manifest: t\nresources:\n  - { id: f, type: file, path: /t, content: \"t\\n\" }\n");
        Assert.Equal(6, (await Cli("push", manifest)).ExitCode);
        Assert.False(File.Exists(_node.RootPath("/t")));

        var pushed = await Cli("--token-file", _node.TokenFile, "push", manifest, "--wait");
        Assert.True(pushed.ExitCode == 0, pushed.ToString());
        Assert.Equal("t\n", File.ReadAllText(_node.RootPath("/t")));
    }

    public async Task InitializeAsync() => _node = await _nodes.StartAsync("guarded", apiHost: "0.0.0.0");

    public async Task DisposeAsync() => await _nodes.DisposeAsync();
}
