namespace Mesh.EndToEnd.Tests;

/// <summary>
/// Templates that see the fleet, with real processes: a load balancer's configuration rendered
/// from the members gains a line when a web node joins and loses it once the node has been gone
/// for the departure grace; only the node the manifest targets renders it.
/// </summary>
[Collection(EndToEndCollection.Name)]
public sealed class FleetTemplateTests : IAsyncLifetime
{
    private static readonly TimeSpan Grace = TimeSpan.FromSeconds(8);

    private readonly NodeGroup _nodes = NodeGroup.InTempDirectory("mesh-e2e-fleet-");
    private NodeProcess _lb = null!;
    private NodeProcess _web1 = null!;
    private NodeProcess _web2 = null!;

    public async Task InitializeAsync()
    {
        var config = _nodes.Write("lb.hocon", $"mesh.fleet.departure-grace = {Grace.TotalSeconds:0}s\n");
        _lb = await _nodes.StartAsync("lb", roles: ["lb"], extraArgs: ["--config", config]);
        _web1 = await _nodes.StartAsync("web1", seed: _lb.ClusterAddress, roles: ["web"]);
        _web2 = await _nodes.StartAsync("web2", seed: _lb.ClusterAddress, roles: ["web"]);
        await ThreeNodeMesh.Until(async () => (await _lb.MembersAsync()).Count(m => m.Status == "up") == 3, "lb sees three members up", TimeSpan.FromSeconds(60));
    }

    private string Config => _lb.RootPath("/haproxy/haproxy.cfg");

    private string[] Servers() =>
        File.Exists(Config) ? File.ReadAllLines(Config).Where(l => l.StartsWith("    server ", StringComparison.Ordinal)).ToArray() : [];

    private bool Lists(params string[] names) =>
        Servers().Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]).SequenceEqual(names);

    [Fact]
    public async Task A_balancer_config_gains_a_line_when_a_web_node_joins_and_loses_it_after_the_grace()
    {
        var manifest = _nodes.Write("lb.yaml", """
            manifest: balancer
            target: { roles: [lb] }
            resources:
              - { id: dir, type: directory, path: /haproxy }
              - id: cfg
                type: file
                path: /haproxy/haproxy.cfg
                requires: [dir]
                template: |
                  backend web
                  {% for n in nodes | where_role: "web" %}    server {{ n.name }} {{ n.addresses[0] }}:8080 check
                  {% endfor %}
            """);
        var other = _nodes.Write("motd.yaml", """
            manifest: motd
            target: { roles: [lb] }
            resources:
              - { id: motd, type: file, path: /motd, template: "{{ node.name }}\n" }
            """);
        var push = await _lb.Cli("push", manifest, other, "--wait", "--timeout", "60s");
        Assert.True(push.ExitCode == 0, push.ToString());
        Assert.Matches(@"ok\s+lb\s+balancer", push.Out);
        await ThreeNodeMesh.Until(() => Task.FromResult(Lists("web1", "web2")), "the balancer lists web1 and web2", TimeSpan.FromSeconds(60));
        Assert.False(File.Exists(_web1.RootPath("/haproxy/haproxy.cfg")));
        Assert.All(Servers(), line => Assert.Matches(@"^    server web\d \S+:8080 check$", line));

        // A third web node joins: the balancer's file gains its line, by a re-render (not drift), and the other manifest is left alone.
        var web3 = await _nodes.StartAsync("web3", seed: _lb.ClusterAddress, roles: ["web"]);
        await ThreeNodeMesh.Until(() => Task.FromResult(Lists("web1", "web2", "web3")), "the balancer lists web3", TimeSpan.FromSeconds(60));
        // The report of the re-render carries the diff that says why.
        var report = await ThreeNodeMesh.Until(async () => (await _lb.StatusAsync()).Manifests
            .FirstOrDefault(s => s is { Node: "lb", Manifest: "balancer" } && s.Report?.Resources.Any(r => r.Detail?.Contains("+    server web3 ") == true) == true),
            "lb's report of balancer shows the line web3 added", TimeSpan.FromSeconds(30));
        Assert.Equal("ok", report.State);
        Assert.False(report.Report!.Drift);
        var audit = await _lb.Cli("audit", "--node", "lb");
        Assert.True(audit.ExitCode == 0, audit.ToString());
        Assert.True(Count(audit.Out, @"\sapplied\s+balancer\s") >= 2, audit.Out); // pushed, then re-rendered
        Assert.Equal(1, Count(audit.Out, @"\sapplied\s+motd\s")); // pushed; it does not read nodes
        Assert.DoesNotContain("drift", audit.Out);

        // web3 leaves: it stays listed while the grace runs, then its line goes.
        Assert.Equal(0, await web3.StopAsync());
        await ThreeNodeMesh.Until(async () => (await _lb.MembersAsync()).All(m => m.Name != "web3"), "web3 has left the cluster", TimeSpan.FromSeconds(60));
        var left = DateTime.UtcNow;
        Assert.True(Lists("web1", "web2", "web3"), "web3 is still listed within the grace:\n" + string.Join("\n", Servers()));
        await ThreeNodeMesh.Until(() => Task.FromResult(Lists("web1", "web2")), "the balancer drops web3 after the grace", TimeSpan.FromSeconds(60));
        Assert.True(DateTime.UtcNow - left > Grace / 2, $"web3 was dropped {(DateTime.UtcNow - left).TotalSeconds:0.0} s after it left, before the grace of {Grace.TotalSeconds} s");
    }

    private static int Count(string text, string pattern) => System.Text.RegularExpressions.Regex.Matches(text, pattern).Count;

    public async Task DisposeAsync() => await _nodes.DisposeAsync();
}
