using System.Diagnostics;

namespace Mesh.EndToEnd.Tests;

/// <summary>The CLI against a host that answers nothing at all (a firewall that drops, a stack that hangs): no SYN-ACK and no refusal ever come.</summary>
[Collection(SecondEndToEndLane.Name)]
public sealed class UnreachableHostTests : IDisposable
{
    private readonly string _workDir = Directory.CreateTempSubdirectory("mesh-e2e-unreachable-").FullName;
    private TestNetwork? _network;

    [SkippableFact]
    public async Task A_node_whose_host_answers_nothing_is_named_unreachable_with_exit_3_not_waited_on_for_minutes()
    {
        var unavailable = TestNetwork.Unavailable;
        Skip.If(unavailable is not null, $"needs network namespaces: {unavailable}");
        _network = TestNetwork.Create("gone");
        var host = _network["gone"];
        _network.Silence(host);

        var elapsed = Stopwatch.StartNew();
        // Bounded well below the kernel's two minutes of SYN retries: the CLI gives up by itself.
        var members = await MeshCli.RunAsync(_workDir, "--api", $"{host.Address}:4711", "members");
        elapsed.Stop();

        Assert.Equal(3, members.ExitCode);
        Assert.Contains($"cannot reach the control API at {host.Address}:4711", members.Err);
        Assert.Contains("no connection within 5s", members.Err);
        Assert.True(elapsed.Elapsed < TimeSpan.FromSeconds(60), $"the CLI waited {elapsed.Elapsed.TotalSeconds:0} s");
    }

    public void Dispose()
    {
        _network?.Dispose();
        Directory.Delete(_workDir, recursive: true);
    }
}
