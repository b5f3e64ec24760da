using System.Text.Json;
using Mesh.Protocol.Api;

namespace Mesh.EndToEnd.Tests;

/// <summary>The converge engine through real processes: templates, notify, exec, dry runs and drift, on three nodes.</summary>
[Collection(EndToEndCollection.Name)]
public sealed class ResourceEngineTests(ThreeNodeMesh mesh) : IClassFixture<ThreeNodeMesh>
{
    private static string App(string port) => $$$"""
        manifest: app
        vars:
          port: "{{{port}}}"
        resources:
          - { id: srv, type: directory, path: /srv }
          - { id: app-dir, type: directory, path: /srv/app, requires: [srv] }
          - id: conf
            type: file
            path: /srv/app/app.conf
            requires: [app-dir]
            notify: [reload]
            template: |
              port = {{ vars.port }}
              node = {{ node.name }}
          - id: reload
            type: exec
            command: ["/bin/sh", "-c", "echo reloaded >> srv/app/reloads"]
            refresh_only: true
        """;

    private static int Reloads(NodeProcess node) =>
        File.Exists(node.RootPath("/srv/app/reloads")) ? File.ReadAllLines(node.RootPath("/srv/app/reloads")).Length : 0;

    [Fact]
    public async Task Diff_then_push_then_diff_again_across_three_nodes()
    {
        var file = mesh.Manifest("app.yaml", App("8080"));

        var before = await mesh.Cli(mesh.A, "diff", file);
        Assert.True(before.ExitCode == 0, before.ToString());
        foreach (var node in mesh.All)
        {
            Assert.Contains($"{node.Name}  app: 4 change(s)", before.Out);
            Assert.Contains($"+node = {node.Name}", before.Out);
        }
        Assert.Contains("+port = 8080", before.Out);
        Assert.All(mesh.All, n => Assert.False(Directory.Exists(n.RootPath("/srv/app"))));

        var push = await mesh.Cli(mesh.B, "push", file, "--wait", "--timeout", "60s");
        Assert.True(push.ExitCode == 0, push.ToString());
        foreach (var node in mesh.All)
        {
            Assert.Equal($"port = 8080\nnode = {node.Name}\n", File.ReadAllText(node.RootPath("/srv/app/app.conf")));
            Assert.Equal(1, Reloads(node));
        }

        var after = await mesh.Cli(mesh.C, "diff", file);
        Assert.True(after.ExitCode == 0, after.ToString());
        foreach (var node in mesh.All) Assert.Contains($"{node.Name}  app: no changes", after.Out);

        var changed = mesh.Manifest("app.yaml", App("9090"));
        var preview = await mesh.Cli(mesh.C, "push", changed, "--dry-run", "--json");
        var plan = JsonSerializer.Deserialize<PlanResponse>(preview.Out, ApiJson.Options)!;
        foreach (var p in Assert.Single(plan.Manifests).Plans)
        {
            var conf = p.Resources.Single(r => r.Id == "conf");
            Assert.Contains("-port = 8080", conf.Detail);
            Assert.Contains("+port = 9090", conf.Detail);
            Assert.Contains(p.Resources, r => r.Id == "reload");
        }
        Assert.All(mesh.All, n => Assert.Equal(1, Reloads(n)));

        var second = await mesh.Cli(mesh.A, "push", changed, "--wait", "--timeout", "60s");
        Assert.True(second.ExitCode == 0, second.ToString());
        foreach (var node in mesh.All)
        {
            Assert.StartsWith("port = 9090\n", File.ReadAllText(node.RootPath("/srv/app/app.conf")));
            Assert.Equal(2, Reloads(node));
        }
    }

    [Fact]
    public async Task A_manual_edit_on_one_host_is_repaired_reported_as_drift_and_notifies()
    {
        var file = mesh.Manifest("drift.yaml", """
            manifest: drifty
            target: { nodes: [c] }
            resources:
              - { id: conf, type: file, path: /drifty.conf, content: "managed\n", notify: [count] }
              - { id: count, type: exec, command: "echo run >> drifty.runs", refresh_only: true }
            """);
        Assert.Equal(0, (await mesh.Cli(mesh.A, "push", file, "--wait")).ExitCode);
        var conf = mesh.C.RootPath("/drifty.conf");

        File.WriteAllText(conf, "edited by hand\n");

        await ThreeNodeMesh.Until(() => Task.FromResult(File.ReadAllText(conf) == "managed\n"), "c repairs the edit");
        await ThreeNodeMesh.Until(async () => (await mesh.A.StatusAsync()).Manifests.Any(s => s is { Node: "c", Manifest: "drifty", Report.Drift: true }),
            "a sees c's drift report");
        await ThreeNodeMesh.Until(() => Task.FromResult(File.ReadAllLines(mesh.C.RootPath("/drifty.runs")).Length == 2), "the repair notified the exec");
        var status = await mesh.Cli(mesh.B, "status", "drifty");
        Assert.Contains("drift repaired", status.Out);
    }
}
