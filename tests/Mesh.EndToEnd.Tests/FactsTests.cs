using System.Text.Json.Nodes;
using Mesh.Protocol.Api;

namespace Mesh.EndToEnd.Tests;

/// <summary>
/// Facts with real processes: custom facts from a node's facts.d are published, shown by
/// <c>mesh facts</c>, matched by <c>--target</c> and by a manifest's <c>target.facts</c>; bad targets are refused clearly.
/// </summary>
[Collection(SecondEndToEndLane.Name)]
public sealed class FactsTests : IAsyncLifetime
{
    private readonly NodeGroup _nodes = NodeGroup.InTempDirectory("mesh-e2e-facts-");
    private NodeProcess _a = null!;
    private NodeProcess _b = null!;
    private NodeProcess _c = null!;

    public async Task InitializeAsync()
    {
        // b's cluster.hocon has a facts.d beside it: an executable printing JSON, a key=value file, and a custom fact that fails.
        var conf = Directory.CreateDirectory(Path.Combine(_nodes.WorkDir, "b-conf"));
        var factsDir = Directory.CreateDirectory(Path.Combine(conf.FullName, "facts.d"));
        var config = Path.Combine(conf.FullName, "cluster.hocon");
        File.WriteAllText(config, "mesh { }\n");
        Script(Path.Combine(factsDir.FullName, "10-app"), "#!/bin/sh\necho '{\"app\": {\"tier\": \"gold\"}, \"shards\": 3}'\n");
        File.WriteAllText(Path.Combine(factsDir.FullName, "20-rack"), "# written by the provisioning\nrack=r12\n");
        Script(Path.Combine(factsDir.FullName, "30-broken"), "#!/bin/sh\necho 'no inventory here' >&2\nexit 4\n");

        _a = await _nodes.StartAsync("a");
        _b = await _nodes.StartAsync("b", seed: _a.ClusterAddress, roles: ["web"], extraArgs: ["--config", config]);
        _c = await _nodes.StartAsync("c", seed: _a.ClusterAddress, roles: ["web"]);
        await ThreeNodeMesh.Until(async () => (await _a.MembersAsync()).Count(m => m.Status == "up") == 3, "a sees three members up", TimeSpan.FromSeconds(60));
    }

    private static void Script(string path, string text)
    {
        File.WriteAllText(path, text);
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
    }

    [Fact]
    public async Task A_fact_from_facts_d_is_shown_targetable_and_a_manifest_targeting_it_reaches_only_that_node()
    {
        // Published: a shows b's custom facts, and the one that failed.
        var facts = await ThreeNodeMesh.Until(async () =>
        {
            var shown = (await _a.Cli("facts", "b", "--json")).Json<NodeFactsInfo[]>().Single();
            return shown.Known ? shown : null;
        }, "a knows b's facts", TimeSpan.FromSeconds(60));
        Assert.Equal("gold", facts.Facts!["app"]!["tier"]!.ToString());
        Assert.Equal("r12", facts.Facts["rack"]!.ToString());
        Assert.Equal(3, facts.Facts["shards"]!.GetValue<int>());
        Assert.Contains(facts.Errors, e => e == "facts.d/30-broken: exit 4: no inventory here");
        var table = await _a.Cli("facts", "b");
        Assert.Matches(@"(?m)^app\.tier\s+gold\s*$", table.Out);
        Assert.Contains("error: facts.d/30-broken: exit 4", table.Out);
        Assert.Contains("b", (await _a.Cli("facts")).Out);

        // Who a target selects, before pushing: by the same rule as the push.
        var targeted = await _a.Cli("members", "--target", "{facts: {app.tier: gold, \"memory_mb>\": 0}}", "--json");
        Assert.True(targeted.ExitCode == 0, targeted.ToString());
        Assert.Equal(["b"], targeted.Json<MemberInfo[]>().Select(m => m.Name));
        // Every member's facts reach a by gossip, a moment after it is Up (a node joins before it gathers them).
        var withFacts = await ThreeNodeMesh.Until(async () =>
            (await _a.Cli("members", "--facts", "--json")).Json<MemberInfo[]>() is var members && members.All(m => m.Facts?["memory_mb"] is not null) ? members : null,
            "a knows every member's facts", TimeSpan.FromSeconds(60));
        Assert.Equal(["a", "b", "c"], withFacts.Select(m => m.Name).Order());
        Assert.Contains("MEMORY_MB", (await _a.Cli("members", "--facts")).Out);

        var manifest = _nodes.Write("rack.yaml", """
            manifest: rack
            target:
              roles: [web]
              facts: {rack: r12, "shards>=": 2}
            resources:
              - { id: where, type: file, path: /rack, template: "{{ node.name }} is in {{ node.rack }}\n" }
            """);
        var push = await _a.Cli("push", manifest, "--wait", "--timeout", "60s");
        Assert.True(push.ExitCode == 0, push.ToString());
        Assert.Matches(@"ok\s+b\s+rack", push.Out);
        Assert.DoesNotMatch(@"\bc\s+rack", push.Out);
        Assert.Equal("b is in r12\n", File.ReadAllText(_b.RootPath("/rack")));
        Assert.False(File.Exists(_c.RootPath("/rack")));
        Assert.False(File.Exists(_a.RootPath("/rack")));
    }

    [Fact]
    public async Task Bad_fact_targets_are_refused_with_a_clear_error_and_change_nothing()
    {
        var unknown = await _a.Cli("members", "--target", "{facts: {\"cpus>>\": 2}}");
        Assert.Equal(2, unknown.ExitCode);
        Assert.Contains("unknown fact operator '>>'", unknown.Err);
        Assert.Contains("--target", unknown.Err);

        var empty = await _a.Cli("members", "--target", "{}");
        Assert.Equal(2, empty.ExitCode);
        Assert.Contains("the target is empty", empty.Err);

        var notANumber = await _a.Cli("members", "--target", "{facts: {\"memory_mb>=\": lots}}");
        Assert.Equal(2, notANumber.ExitCode);
        Assert.Contains("'lots' is not a number", notANumber.Err);

        var ghost = await _a.Cli("facts", "ghost");
        Assert.Equal(4, ghost.ExitCode);
        Assert.Contains("no member named 'ghost'", ghost.Err);

        var bad = _nodes.Write("bad.yaml", """
            manifest: bad
            target:
              facts:
                os: debian
                "memory_mb=>": 4096
            resources:
              - { id: f, type: file, path: /etc/bad }
            """);
        var push = await _a.Cli("push", bad);
        Assert.NotEqual(0, push.ExitCode);
        Assert.Contains("bad.yaml:5", push.Printed);
        Assert.Contains("unknown fact operator '=>'", push.Printed);
        Assert.DoesNotContain("bad", (await _a.Cli("list")).Out);
    }

    public async Task DisposeAsync() => await _nodes.DisposeAsync();
}
