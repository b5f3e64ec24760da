using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;

namespace Mesh.EndToEnd.Tests;

/// <summary>mesh-node under a service manager, with real processes: systemd notifications, SIGHUP reloads, journald lines.</summary>
[Collection(SecondEndToEndLane.Name)]
public sealed class ServiceTests : IAsyncLifetime
{
    private readonly NodeGroup _nodes = NodeGroup.InTempDirectory("mesh-e2e-service-");

    private string Gate => Path.Combine(_nodes.WorkDir, "gate-open");

    /// <summary>A manifest whose one command runs until the test opens the gate.</summary>
    private string Gated() => _nodes.Write("gated.yaml", $$"""
        manifest: gated
        resources:
          - id: wait
            type: exec
            command: ["/bin/sh", "-c", "while [ ! -e '{{Gate}}' ]; do sleep 0.02; done"]
        """);

    private string Motd(string text) =>
        _nodes.Write("motd.yaml", $"manifest: motd\nresources:\n  - {{ id: motd, type: file, path: /motd, content: \"{text}\\n\" }}\n");

    /// <summary>What systemd would receive: a unix datagram socket in the abstract namespace, every datagram kept.</summary>
    private sealed class NotifySocket : IDisposable
    {
        private readonly Socket _socket = new(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
        private readonly List<string> _received = [];
        private readonly Task _reading;

        public string Name { get; } = "@mesh-e2e-notify-" + Guid.NewGuid().ToString("N");

        public NotifySocket()
        {
            _socket.Bind(new UnixDomainSocketEndPoint("\0" + Name[1..]));
            _reading = Task.Run(async () =>
            {
                var buffer = new byte[4096];
                try
                {
                    while (true)
                    {
                        var n = await _socket.ReceiveAsync(buffer, SocketFlags.None);
                        lock (_received) _received.Add(Encoding.UTF8.GetString(buffer, 0, n));
                    }
                }
                catch (Exception e) when (e is SocketException or ObjectDisposedException)
                {
                }
            });
        }

        public string[] Received
        {
            get { lock (_received) return _received.ToArray(); }
        }

        public bool Got(string assignment) => Received.Any(d => d.Split('\n').Contains(assignment));

        public void Dispose() => _socket.Dispose();
    }

    [Fact]
    public async Task The_node_tells_systemd_it_is_ready_only_once_up_and_caught_up_and_that_it_stops()
    {
        using var systemd = new NotifySocket();
        var seed = await _nodes.StartAsync("seed");
        var pushed = await seed.Cli("push", Gated());
        Assert.True(pushed.ExitCode == 0, pushed.ToString());

        // Up (StartAsync waits for that), with the manifest in the index and its command still running: not ready.
        var node = await _nodes.StartAsync("served", seed: seed.ClusterAddress, environment: new Dictionary<string, string> { ["NOTIFY_SOCKET"] = systemd.Name });
        await ThreeNodeMesh.Until(() => Task.FromResult(systemd.Got("STATUS=1 manifest(s) not yet applied: gated")), "a status naming the manifest being applied");
        Assert.False(systemd.Got("READY=1"), string.Join(" | ", systemd.Received));

        File.WriteAllText(Gate, "");
        await ThreeNodeMesh.Until(() => Task.FromResult(systemd.Got("READY=1")), "READY=1 once the manifest is applied");
        // The line on stdout comes through a pipe the test reads on its own time, the datagram through the socket.
        await ThreeNodeMesh.Until(() => Task.FromResult(node.Log.Contains("mesh-node served: ready")), "the node's log says it is ready");
        Assert.Contains((await node.StatusAsync()).Manifests, s => s.Node == "served" && s.State == "ok");
        Assert.False(systemd.Got("STOPPING=1"));

        Assert.Equal(0, await node.StopAsync());
        Assert.True(systemd.Got("STOPPING=1"), string.Join(" | ", systemd.Received));
    }

    [Fact]
    public async Task An_attached_host_tells_systemd_it_is_ready_once_started_outlives_a_reload_and_says_it_stops()
    {
        using var systemd = new NotifySocket();
        var core = await _nodes.StartAsync("core", extraArgs: ["--serve-attached"]);

        var host = await _nodes.StartAttachedAsync("host1", [core.ClusterAddress], environment: new Dictionary<string, string> { ["NOTIFY_SOCKET"] = systemd.Name });

        await ThreeNodeMesh.Until(() => Task.FromResult(systemd.Got("READY=1")), "READY=1 from the attached host");
        Assert.Contains(systemd.Received, d => d.Contains("STATUS=attached host; core " + core.ClusterAddress));
        host.Reload();
        await ThreeNodeMesh.Until(() => Task.FromResult(host.Log.Contains("reload ignored: an attached host takes its configuration at start")),
            "the host says a reload changes nothing");
        Assert.False(host.HasExited);
        Assert.Equal(0, await host.StopAsync());
        Assert.True(systemd.Got("STOPPING=1"), string.Join(" | ", systemd.Received));
        Assert.Contains("mesh-node host1: detaching", host.Log);
    }

    [Fact]
    public async Task Sighup_reloads_the_trust_list_from_the_configuration_file_and_a_broken_file_changes_nothing()
    {
        var config = _nodes.Write("node.hocon", "akka.loglevel = INFO\n");
        var node = await _nodes.StartAsync("reloaded", extraArgs: ["--config", config]);
        var open = await node.Cli("push", Motd("unsigned, before"));
        Assert.True(open.ExitCode == 0, open.ToString());

        var key = Path.Combine(_nodes.WorkDir, "alice.key");
        Assert.Equal(0, (await MeshCli.RunAsync(_nodes.WorkDir, "keygen", "--out", key, "--name", "alice")).ExitCode);
        File.WriteAllText(config, $"akka.loglevel = INFO\nmesh.trusted-keys {{ alice = \"{key}.pub\" }}\nmesh.audit.keep = 3\n");
        node.Reload();
        try
        {
            // Two lines, one on stdout and one on stderr: read from two pipes, either may come first.
            await ThreeNodeMesh.Until(() => Task.FromResult(node.Log.Contains("reloaded: trust list: none (unsigned changes accepted) -> alice (")
                    && node.Log.Contains("mesh.audit.keep differs from the running configuration: it takes effect only at a restart")),
                "the node logs the new trust list and that mesh.audit.keep waits for a restart");
        }
        catch (TimeoutException e)
        {
            // What the node said instead: a refused reload, a reload ignored while it restarted, or nothing at all.
            throw new TimeoutException($"{e.Message}\n--- node log\n{node.Log}", e);
        }

        var refused = await node.Cli("push", Motd("unsigned, after"));
        Assert.Equal(6, refused.ExitCode);
        var signed = await node.Cli("--key", key, "push", Motd("signed"));
        Assert.True(signed.ExitCode == 0, signed.ToString());

        File.WriteAllText(config, "mesh.trusted-keys { alice = \"/nowhere/alice.pub\" }\n");
        node.Reload();
        await ThreeNodeMesh.Until(() => Task.FromResult(node.Log.Contains("reload refused, the running configuration stays")), "the node refuses the broken file");
        Assert.Equal(6, (await node.Cli("push", Motd("unsigned, still"))).ExitCode);
    }

    [Fact]
    public async Task Under_journald_every_line_has_a_priority_and_no_timestamp()
    {
        var node = await _nodes.StartAsync("journaled", environment: new Dictionary<string, string> { ["JOURNAL_STREAM"] = "8:12345" });
        var pushed = await node.Cli("push", Motd("logged"), "--wait");
        Assert.True(pushed.ExitCode == 0, pushed.ToString());
        await ThreeNodeMesh.Until(() => Task.FromResult(node.Log.Contains("motd ")), "the converger logs the apply");
        Assert.Equal(0, await node.StopAsync());

        var lines = node.Log.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.All(lines, line => Assert.Matches(@"^<[0-7]>", line));
        Assert.DoesNotContain(lines, line => Regex.IsMatch(line, @"\d{2}:\d{2}:\d{2}"));
        Assert.Contains(lines, line => line.StartsWith("<4>mesh-node journaled: WARNING: no trusted signing keys", StringComparison.Ordinal));
        Assert.Contains(lines, line => line.StartsWith("<6>[", StringComparison.Ordinal) && line.Contains("motd "));
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        File.WriteAllText(Gate, "");
        await _nodes.DisposeAsync();
    }
}
