using System.Net;
using System.Net.Sockets;

namespace Mesh.Cli.Tests;

/// <summary>A file with secrets is checked by the CLI itself, before it asks a node anything: a bad one never leaves this machine.</summary>
public sealed class SecretInputTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("mesh-cli-").FullName;

    private static Task<(int Code, string Out, string Err)> Run(params string[] args) => InProcessCli.Run(args);

    /// <summary>A loopback port nobody listens on: any attempt to reach the node would exit 3.</summary>
    private static string DeadApi()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return $"127.0.0.1:{((IPEndPoint)listener.LocalEndpoint).Port}";
    }

    private string Write(string yaml)
    {
        var path = Path.Combine(_dir, "db.yaml");
        File.WriteAllText(path, yaml);
        return path;
    }

    [Theory]
    [InlineData("push")]
    [InlineData("diff")]
    public async Task A_file_with_a_secret_that_does_not_validate_is_refused_without_asking_a_node(string command)
    {
        var file = Write("manifest: db\nvars: { pw: !secret hunter2 }\nresources:\n  - { id: a, type: file, path: /a, mdoe: \"0600\" }\n");

        var (code, _, err) = await Run("--api", DeadApi(), command, file);

        Assert.Equal(ExitCodes.Invalid, code);
        Assert.Contains("nothing was sent", err);
        Assert.Contains("db.yaml:4:36: resources[0] (a).mdoe: unknown field", err);
        Assert.DoesNotContain("hunter2", err);
    }

    [Fact]
    public async Task A_secret_where_none_may_stand_is_refused_without_asking_a_node()
    {
        var file = Write("manifest: db\nresources:\n  - { id: a, type: file, path: /a, mode: !secret \"0600\" }\n");

        var (code, _, err) = await Run("--api", DeadApi(), "push", file);

        Assert.Equal(ExitCodes.Invalid, code);
        Assert.Contains("db.yaml:3:42: resources[0] (a).mode: a secret cannot be used here", err);
    }

    [Fact]
    public async Task A_valid_file_with_secrets_needs_the_node_to_know_whom_to_seal_for()
    {
        var file = Write("manifest: db\nvars: { pw: !secret hunter2 }\nresources: []\n");

        var (code, _, err) = await Run("--api", DeadApi(), "push", file);

        Assert.Equal(ExitCodes.Unreachable, code);
        Assert.Contains("cannot reach the control API", err);
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);
}
