namespace Mesh.EndToEnd.Tests;

/// <summary>
/// Three core peers (<c>--serve-attached</c>) and hosts attached to them (<c>--attach</c>): not
/// members, configured through the peer they reached, seen by <c>mesh</c> at any peer.
/// </summary>
public sealed class AttachedMesh : IAsyncLifetime
{
    private readonly NodeGroup _nodes = NodeGroup.InTempDirectory("mesh-e2e-attached-");

    public string WorkDir => _nodes.WorkDir;
    public NodeProcess A { get; private set; } = null!;
    public NodeProcess B { get; private set; } = null!;
    public NodeProcess C { get; private set; } = null!;
    /// <summary>Given a's address only (its client may attach to any peer: a tells it about the others); role web.</summary>
    public NodeProcess Web { get; private set; } = null!;
    /// <summary>Given b's address only; trusts only the signer <see cref="Key"/>.</summary>
    public NodeProcess Strict { get; private set; } = null!;
    /// <summary>The private key <see cref="Strict"/> trusts.</summary>
    public string Key { get; private set; } = "";
    public IEnumerable<NodeProcess> Peers => [A, B, C];

    public async Task InitializeAsync()
    {
        string[] serve = ["--serve-attached"];
        A = await _nodes.StartAsync("a", extraArgs: serve);
        var b = _nodes.StartAsync("b", seed: A.ClusterAddress, extraArgs: serve);
        var c = _nodes.StartAsync("c", seed: A.ClusterAddress, extraArgs: serve);
        (B, C) = (await b, await c);
        await ThreeNodeMesh.Until(async () => (await Task.WhenAll(Peers.Select(n => n.MembersAsync())))
            .All(members => members.Count(m => m.Status == "up") == 3), "every peer sees three members up");
        Key = Path.Combine(WorkDir, "ops.key");
        var made = await MeshCli.RunAsync(WorkDir, "keygen", "--out", Key, "--name", "ops");
        Assert.True(made.ExitCode == 0, made.ToString());
        var web = _nodes.StartAttachedAsync("web1", [A.ClusterAddress], roles: ["web"]);
        var strict = _nodes.StartAttachedAsync("strict1", [B.ClusterAddress], extraArgs: ["--trust", $"ops={Key}.pub"]);
        (Web, Strict) = (await web, await strict);
    }

    public string Manifest(string fileName, string yaml) => _nodes.Write(fileName, yaml);

    public async Task DisposeAsync() => await _nodes.DisposeAsync();
}

[Collection(SecondEndToEndLane.Name)]
public sealed class AttachedTests(AttachedMesh mesh) : IClassFixture<AttachedMesh>
{
    [Fact]
    public async Task Every_peer_lists_the_attached_hosts_with_the_peer_each_is_attached_to()
    {
        foreach (var peer in mesh.Peers)
        {
            var members = await ThreeNodeMesh.Until(async () =>
            {
                var listed = await peer.MembersAsync();
                return listed.Count(m => m.Status == "attached") == 2 ? listed : null;
            }, $"{peer.Name} lists both attached hosts");
            Assert.Equal(3, members.Count(m => m.Status == "up"));
            var web = Assert.Single(members, m => m.Name == "web1");
            // The peer the host's log names: the one that took it in, whichever of the core its client reached.
            Assert.Contains($"attached to core peer {web.Peer} (", mesh.Web.Log);
            Assert.Equal(["web"], web.Roles);
            Assert.NotNull(web.Key);
            Assert.Contains($"attached to core peer {Assert.Single(members, m => m.Name == "strict1").Peer} (", mesh.Strict.Log);
        }
        var table = await mesh.C.Cli("members");
        Assert.Matches(@"web1\s+attached \([abc]\)", table.Out);
    }

    [Fact]
    public async Task A_push_at_any_peer_reaches_the_attached_hosts_it_targets_and_their_reports_come_back_live()
    {
        var web = mesh.Manifest("attached-web.yaml", """
            manifest: attached-web
            target: { roles: [web] }
            resources:
              - { id: srv, type: directory, path: /srv }
              - { id: conf, type: file, path: /srv/site.conf, content: "listen 80\n", requires: [srv] }
            """);

        var push = await mesh.C.Cli("--key", mesh.Key, "push", web, "--wait", "--timeout", "60s");

        Assert.True(push.ExitCode == 0, push.ToString());
        Assert.Contains("-> 1 node(s): web1", push.Out);
        Assert.Matches(@"ok\s+web1\s+attached-web", push.Out);
        Assert.Equal("listen 80\n", File.ReadAllText(mesh.Web.RootPath("/srv/site.conf")));
        Assert.False(Directory.Exists(mesh.Strict.RootPath("/srv")));
        // web1 reports through its peer; every peer holds the report in its replica.
        foreach (var peer in mesh.Peers)
            await ThreeNodeMesh.Until(async () => (await peer.StatusAsync()).Manifests.Any(s => s is { Node: "web1", Manifest: "attached-web", State: "ok" }),
                $"{peer.Name}'s status shows web1 ok");

        // Drift on the host is repaired there, as on a member.
        File.WriteAllText(mesh.Web.RootPath("/srv/site.conf"), "listen 8080\n");
        await ThreeNodeMesh.Until(() => Task.FromResult(File.ReadAllText(mesh.Web.RootPath("/srv/site.conf")) == "listen 80\n"), "web1 repairs its file");
    }

    [Fact]
    public async Task An_attached_host_checks_signatures_itself_so_its_peer_relays_but_cannot_make_it_apply_an_unsigned_change()
    {
        var motd = mesh.Manifest("attached-motd.yaml", "manifest: attached-motd\nresources:\n  - { id: motd, type: file, path: /motd, content: \"hello\\n\" }\n");

        var unsigned = await mesh.B.Cli("push", motd, "--wait", "--timeout", "60s");

        Assert.Equal(1, unsigned.ExitCode);
        Assert.Contains("failed: strict1 (attached-motd): rejected: unsigned", unsigned.Out);
        Assert.Matches(@"ok\s+web1\s+attached-motd", unsigned.Out);
        Assert.False(File.Exists(mesh.Strict.RootPath("/motd")));

        var signed = await mesh.B.Cli("--key", mesh.Key, "push", mesh.Manifest("attached-motd.yaml",
            "manifest: attached-motd\nresources:\n  - { id: motd, type: file, path: /motd, content: \"signed\\n\" }\n"), "--wait", "--timeout", "60s");
        Assert.True(signed.ExitCode == 0, signed.ToString());
        Assert.Equal("signed\n", File.ReadAllText(mesh.Strict.RootPath("/motd")));
    }

    [Fact]
    public async Task A_rollout_takes_an_attached_host_in_its_batch_behind_its_health_check_and_the_host_s_steps_reach_the_fleet()
    {
        var yaml = "manifest: attached-roll\ntarget: { nodes: [b, web1] }\nresources:\n  - { id: page, type: file, path: /roll, content: \"two\\n\" }\n" +
                   "rollout:\n  batches: [1, 100%]\n  steps:\n    health:\n      - { command: 'grep -q two \"$MESH_ROOT/roll\"', timeout: 5s }\n";

        var push = await mesh.A.Cli("--key", mesh.Key, "push", mesh.Manifest("attached-roll.yaml", yaml), "--wait", "--timeout", "120s");

        Assert.True(push.ExitCode == 0, push.ToString());
        foreach (var line in new[] { "batch 1/2: b", "batch 2/2: web1", "completed: 2 healthy" })
            Assert.True(push.Out.Contains(line), $"{line}\n{push}");
        Assert.Equal("two\n", File.ReadAllText(mesh.Web.RootPath("/roll")));
        // The host's steps went through its peer into the replicated rollout state: another peer shows them (once gossip brought them).
        await ThreeNodeMesh.Until(async () => System.Text.RegularExpressions.Regex.IsMatch((await mesh.C.Cli("rollout", "status", "attached-roll")).Out,
            @"2\s+web1\s+healthy"), "c shows web1 healthy in batch 2");
    }

    [Fact]
    public async Task A_host_named_like_a_member_is_refused_and_exits_2()
    {
        await using var impostor = await NodeProcess.StartAttachedAsync("c", mesh.WorkDir, [mesh.A.ClusterAddress], waitUntilAttached: false);

        Assert.Equal(2, await impostor.ExitedAsync(TimeSpan.FromSeconds(45)));
        Assert.Matches(@"refused by core peer [abc]: a member of the cluster is named 'c'", impostor.Log);
    }
}

/// <summary>An attached host when its peer goes away, and when every peer it knows is gone.</summary>
[Collection(EndToEndCollection.Name)]
public sealed class AttachedFailoverTests : IAsyncLifetime
{
    private readonly NodeGroup _nodes = NodeGroup.InTempDirectory("mesh-e2e-attached-failover-");

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _nodes.DisposeAsync();

    [Fact]
    public async Task An_attached_host_moves_to_another_peer_when_its_peer_dies_and_enforces_what_it_knew_when_no_peer_answers()
    {
        string[] serve = ["--serve-attached"];
        var x = await _nodes.StartAsync("x", extraArgs: serve);
        var (y, z) = (await _nodes.StartAsync("y", seed: x.ClusterAddress, extraArgs: serve), await _nodes.StartAsync("z", seed: x.ClusterAddress, extraArgs: serve));
        // A peer killed is noticed by the client's heartbeats: faster ones than the default 30 s, so the test need not wait.
        var quick = _nodes.Write("quick.hocon", "akka.cluster.client { heartbeat-interval = 1s, acceptable-heartbeat-pause = 4s }\n");
        var host = await _nodes.StartAttachedAsync("h1", [y.ClusterAddress, z.ClusterAddress], extraArgs: ["--config", quick]);
        string Conf(string text) => _nodes.Write("h1.yaml", $"manifest: h1-conf\ntarget: {{ nodes: [h1] }}\nresources:\n  - {{ id: conf, type: file, path: /h1.conf, content: \"{text}\\n\" }}\n");

        var first = await x.Cli("push", Conf("one"), "--wait", "--timeout", "60s");
        Assert.True(first.ExitCode == 0, first.ToString());
        Assert.Matches(@"ok\s+h1\s+h1-conf", first.Out);
        // Its client may have reached any peer: y or z answered, and told it of the whole core.
        var peers = new[] { x, y, z };
        var peerName = (await x.MembersAsync()).Single(m => m.Name == "h1").Peer;
        var peer = peers.Single(p => p.Name == peerName);
        Assert.Contains($"attached to core peer {peer.Name}", host.Log);

        // Its peer dies: the client finds another of the core, which takes the host in.
        await peer.KillAsync();
        await host.AttachedAsync(times: 2);
        var via = peers.First(p => p != peer);
        var second = await via.Cli("push", Conf("two"), "--wait", "--timeout", "60s");
        Assert.True(second.ExitCode == 0, second.ToString());
        Assert.Matches(@"ok\s+h1\s+h1-conf", second.Out);
        Assert.Equal("two\n", File.ReadAllText(host.RootPath("/h1.conf")));
        await ThreeNodeMesh.Until(async () => (await via.MembersAsync()).SingleOrDefault(m => m.Name == "h1")?.Peer is { } now && now != peer.Name,
            "the registry names h1's new peer");

        // Every peer it was given is gone, and the host restarts: it enforces the heads it kept on disk.
        await host.KillAsync();
        await y.KillAsync();
        await z.KillAsync();
        File.WriteAllText(host.RootPath("/h1.conf"), "tampered\n");
        var again = await _nodes.RestartAsync(host);
        await ThreeNodeMesh.Until(() => Task.FromResult(File.ReadAllText(again.RootPath("/h1.conf")) == "two\n"), "h1 repairs its file with no peer");
        // Its log says so too, once the pipe brought the line (the file is written before the line is).
        await ThreeNodeMesh.Until(() => Task.FromResult(again.Log.Contains("h1-conf")), "h1's log names the manifest it enforced");
        Assert.DoesNotContain("attached to core peer", again.Log);
    }
}

/// <summary>Attached hosts relay a body to each other, so their peer sends it a few times, not once per host.</summary>
[Collection(SecondEndToEndLane.Name)]
public sealed class AttachedRelayTests : IAsyncLifetime
{
    private readonly NodeGroup _nodes = NodeGroup.InTempDirectory("mesh-e2e-attached-relay-");

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _nodes.DisposeAsync();

    [Fact]
    public async Task Two_hosts_under_one_peer_with_a_fan_out_of_one_get_a_body_the_peer_sent_once()
    {
        // A fan-out of 1 makes the tree a chain: r1 pulls from the peer, r2 from r1.
        var config = _nodes.Write("chain.hocon", "mesh.content.hold-fan-out = 1\n");
        var peer = await _nodes.StartAsync("x", extraArgs: ["--serve-attached", "--config", config]);
        // A member that serves no hosts: the core's pub-sub leaves it out, and hosts are never sent to it.
        var plain = await _nodes.StartAsync("y", seed: peer.ClusterAddress);
        var (r1, r2) = (await _nodes.StartAttachedAsync("r1", [peer.ClusterAddress]), await _nodes.StartAttachedAsync("r2", [peer.ClusterAddress]));
        var body = string.Concat(Enumerable.Range(0, 4000).Select(i => $"      line {i:0000} {new string('x', 90)}\n"));
        var manifest = _nodes.Write("big.yaml", $"manifest: big\ntarget: {{ nodes: ['r*'] }}\nresources:\n  - id: blob\n    type: file\n    path: /big.txt\n    content: |\n{body}");
        var before = await ServedAsync(peer);

        var push = await peer.Cli("push", manifest, "--wait", "--timeout", "60s");

        Assert.True(push.ExitCode == 0, push.ToString());
        Assert.Matches(@"ok\s+r1\s+big", push.Out);
        Assert.Matches(@"ok\s+r2\s+big", push.Out);
        var size = new FileInfo(r1.RootPath("/big.txt")).Length;
        Assert.True(size > 350_000, $"the file is {size} bytes");
        Assert.Equal(File.ReadAllText(r1.RootPath("/big.txt")), File.ReadAllText(r2.RootPath("/big.txt")));
        // The canonical body is about the file's size: the peer sent it once (to r1), not twice.
        var served = await ServedAsync(peer) - before;
        // y held the body for the push's acknowledgement: one copy; r2 got its copy from r1.
        Assert.True(served < 2.5 * size, $"the peer served {served} bytes for y and two hosts of a {size}-byte body");
        Assert.All(await plain.MembersAsync() is var members ? members.Where(m => m.Status == "attached") : [], m => Assert.Equal("x", m.Peer));
        Assert.DoesNotContain("Deserialization failed", plain.Log);
    }

    private static async Task<double> ServedAsync(NodeProcess node)
    {
        using var response = await node.MetricsAsync();
        var line = (await response.Content.ReadAsStringAsync()).Split('\n').Single(l => l.StartsWith("mesh_content_served_bytes_total ", StringComparison.Ordinal));
        return double.Parse(line.Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture);
    }
}
