using Mesh.Protocol.Api;
using Mesh.Protocol.Wire;

namespace Mesh.EndToEnd.Tests;

/// <summary>
/// Rollouts on six real nodes driven by the real CLI: batches in order behind health checks,
/// a halt that rolls the failed batch back and never touches the next, and bad input refused.
/// </summary>
[Collection(SecondEndToEndLane.Name)]
public sealed class RolloutTests(SixNodeMesh mesh) : IClassFixture<SixNodeMesh>
{
    private static readonly string[] Batch1 = ["n1", "n2"], Batch2 = ["n3", "n4"], Batch3 = ["n5", "n6"];

    /// <summary>A page at /NAME with TEXT, rolled out in batches of two behind a command check (plus <paramref name="check"/>).</summary>
    private string Site(string name, string text, bool rollout, string check = "")
    {
        var yaml = $"manifest: {name}\nresources:\n  - {{ id: page, type: file, path: /{name}, content: \"{text}\\n\" }}\n";
        if (rollout)
            yaml += "rollout:\n  batches: [2, 4, 100%]\n  steps:\n    health:\n" +
                    $"      - {{ command: 'grep -q {text} \"$MESH_ROOT/{name}\"{check}', timeout: 5s }}\n";
        return mesh.Write($"{name}-{text}.yaml", yaml);
    }

    private async Task PushPlain(string name)
    {
        var first = await mesh["n1"].Cli("push", Site(name, "one", rollout: false), "--wait");
        Assert.True(first.ExitCode == 0, first.ToString());
    }

    [Fact]
    public async Task Every_batch_advances_in_order_behind_its_health_check_and_the_audit_trail_and_status_show_each_node_s_steps()
    {
        await PushPlain("site-ok");
        var since = DateTimeOffset.UtcNow.AddSeconds(-1).ToString("O");
        var push = await mesh["n1"].Cli("push", Site("site-ok", "two", rollout: true), "--wait", "--timeout", "120s");
        Assert.True(push.ExitCode == 0, push.ToString());
        foreach (var line in new[] { "batch 1/3: n1, n2", "batch 2/3: n3, n4", "batch 3/3: n5, n6", "completed: 6 healthy" })
            Assert.True(push.Out.Contains(line), $"{line}\n{push}");
        foreach (var node in mesh.Nodes) Assert.Equal("two\n", RolloutMesh.Read(node, "/site-ok"));

        // Any node shows it, once its replica has the record the pushing node wrote last: every node healthy, batch by batch.
        var status = await UntilPhase("n4", "site-ok", "completed");
        Assert.Equal([Batch1, Batch2, Batch3], status.Batches.Select(b => b.Nodes.Select(n => n.Node).ToArray()));
        Assert.All(status.Batches.SelectMany(b => b.Nodes), n => Assert.Equal("healthy", n.Step));
        var table = await mesh["n6"].Cli("rollout", "status", "site-ok");
        Assert.Matches(@"3\s+n6\s+healthy", table.Out);

        // The audit trail has each node's steps, and no node of a batch applied before the previous batch was healthy.
        var audit = (await mesh["n2"].Cli("audit", "--since", since, "--json")).Json<AuditEntry[]>()
            .Where(e => e is { Manifest: "site-ok", Kind: "rollout" } && e.Version == status.Version && !e.Detail.StartsWith("started")).ToArray();
        foreach (var node in mesh.Nodes)
            Assert.Equal(["applying", "checking", "healthy"], audit.Where(e => e.Node == node.Name).OrderBy(e => e.Time).Select(e => e.Detail));
        DateTimeOffset Healthy(string[] batch) => audit.Where(e => batch.Contains(e.Node) && e.Detail == "healthy").Max(e => e.Time);
        DateTimeOffset Applying(string[] batch) => audit.Where(e => batch.Contains(e.Node) && e.Detail == "applying").Min(e => e.Time);
        Assert.True(Healthy(Batch1) <= Applying(Batch2), "batch 2 started before batch 1 was healthy");
        Assert.True(Healthy(Batch2) <= Applying(Batch3), "batch 3 started before batch 2 was healthy");
    }

    [Fact]
    public async Task A_health_check_failing_on_the_second_batch_halts_it_back_on_the_old_revision_and_the_third_never_sees_it()
    {
        await PushPlain("site-bad");
        foreach (var name in Batch2) File.WriteAllText(mesh[name].RootPath("/broken"), "");
        var push = await mesh["n1"].Cli("push", Site("site-bad", "two", rollout: true, check: " && test ! -e \"$MESH_ROOT/broken\""), "--wait", "--timeout", "120s");

        Assert.True(push.ExitCode == 1, push.ToString());
        Assert.True(push.Out.Contains("halted at batch 2 of 3"), push.ToString());
        foreach (var name in Batch2) Assert.Matches($"failed: {name}: health: command '.*': exited 1; back on ", push.Out);
        foreach (var name in Batch1) Assert.Equal("two\n", RolloutMesh.Read(mesh[name], "/site-bad"));
        foreach (var name in Batch2.Concat(Batch3)) Assert.Equal("one\n", RolloutMesh.Read(mesh[name], "/site-bad"));

        // n5 shows it once its replica holds the steps of both failed nodes (they come by gossip).
        var status = await ThreeNodeMesh.Until(async () => await Status("n5", "site-bad") is { Phase: "halted" } s
                && s.Batches[1].Nodes.All(n => n.Step == "failed") ? s : null,
            "site-bad halted with batch 2 failed as n5 sees it", TimeSpan.FromSeconds(90));
        Assert.All(status.Batches[1].Nodes, n => Assert.True(n is { Step: "failed", RolledBack: true }, n.ToString()));
        Assert.All(status.Batches[2].Nodes, n => Assert.Equal("waiting", n.Step));
        // Batch 3 never saw it: no step, no apply of the new revision in its audit trail.
        var audit = (await mesh["n5"].Cli("audit", "--json")).Json<AuditEntry[]>();
        Assert.DoesNotContain(audit, e => Batch3.Contains(e.Node) && e.Manifest == "site-bad" && e.Version == status.Version && e.Kind != "received");
    }

    [Fact]
    public async Task Bad_rollout_input_is_refused_at_push_naming_the_file_line_or_the_option_and_nothing_is_stored()
    {
        var unknownStep = mesh.Write("bad-step.yaml", "manifest: site-refused\nrollout:\n  steps:\n    reboot: now\n");
        var refused = await mesh["n2"].Cli("push", unknownStep);
        Assert.Equal(2, refused.ExitCode);
        Assert.Contains("bad-step.yaml:4:5: rollout.steps.reboot: unknown step 'reboot'", refused.Printed);

        var notHttp = mesh.Write("bad-url.yaml", "manifest: site-refused\nrollout:\n  steps:\n    health: { http: \"file:///etc/passwd\" }\n");
        Assert.Contains("bad-url.yaml:4:21: rollout.steps.health.http", (await mesh["n2"].Cli("push", notHttp)).Printed);

        var plain = mesh.Write("plain.yaml", "manifest: site-refused\nresources: []\n");
        var batches = await mesh["n2"].Cli("push", plain, "--batch", "1,50%");
        Assert.Equal(2, batches.ExitCode);
        Assert.Contains("--batch", batches.Printed);
        Assert.Contains("must end at 100%", batches.Printed);
        var tooMany = await mesh["n2"].Cli("push", plain, "--batch", "2,4,100%", "--max-failures", "3");
        Assert.Equal(2, tooMany.ExitCode);
        Assert.Contains("--max-failures", tooMany.Printed);

        Assert.DoesNotContain("site-refused", (await mesh["n2"].Cli("list")).Out);
    }

    /// <summary>The rollout as <paramref name="via"/> derives it; null while that node has not heard of it yet.</summary>
    private async Task<RolloutStatus?> Status(string via, string manifest) =>
        await mesh[via].Cli("rollout", "status", manifest, "--json") is { ExitCode: 0 } shown ? shown.Json<RolloutStatus>() : null;

    private async Task<RolloutStatus> UntilPhase(string via, string manifest, string phase) =>
        await ThreeNodeMesh.Until(async () => await Status(via, manifest) is { } s && s.Phase == phase ? s : null,
            $"{manifest} {phase} as {via} sees it", TimeSpan.FromSeconds(90));

    private string[] Holding(string manifest, string text) =>
        mesh.Nodes.Where(n => RolloutMesh.Read(n, "/" + manifest) == text + "\n").Select(n => n.Name).ToArray();

    [Fact]
    public async Task A_pause_from_one_node_holds_every_node_and_a_resume_from_another_completes_the_rollout()
    {
        await PushPlain("site-pause");
        // The pause between batches is the window the operator's pause must land in: long enough
        // for a busy machine, where the CLI and gossip take seconds.
        var between = TimeSpan.FromSeconds(10);
        var push = await mesh["n1"].Cli("push", Site("site-pause", "two", rollout: true), "--pause", $"{between.TotalSeconds:0}s");
        Assert.True(push.ExitCode == 0, push.ToString());
        await ThreeNodeMesh.Until(async () => await Status("n3", "site-pause") is { Batches: [var first, ..] } && first.Nodes.All(n => n.Step == "healthy"),
            "the first batch healthy", TimeSpan.FromSeconds(60));
        var healthy = DateTime.UtcNow;
        var paused = await mesh["n3"].Cli("rollout", "pause", "site-pause");
        Assert.True(paused.ExitCode == 0, paused.ToString());
        await UntilPhase("n5", "site-pause", "paused");

        // Paused: no further node starts, also well after the pause between batches has passed.
        var held = Holding("site-pause", "two");
        var until = healthy + between + TimeSpan.FromSeconds(4);
        while (DateTime.UtcNow < until)
        {
            Assert.Equal(held, Holding("site-pause", "two"));
            await Task.Delay(250);
        }
        Assert.Equal("paused", (await Status("n2", "site-pause"))?.Phase);

        var resumed = await mesh["n6"].Cli("rollout", "resume", "site-pause");
        Assert.True(resumed.ExitCode == 0, resumed.ToString());
        await UntilPhase("n4", "site-pause", "completed");
        Assert.Equal(6, Holding("site-pause", "two").Length);
    }

    private string Canary(string name, string text) => mesh.Write($"{name}-{text}.yaml",
        $"manifest: {name}\nresources:\n  - {{ id: page, type: file, path: /{name}, content: \"{text}\\n\" }}\n" +
        "rollout:\n  batches: [1, 100%]\n  canary: { nodes: [n3], pause: manual }\n");

    [Fact]
    public async Task A_manual_canary_waits_for_resume_and_a_second_push_is_refused_meanwhile()
    {
        await PushPlain("site-canary");
        Assert.Equal(0, (await mesh["n2"].Cli("push", Canary("site-canary", "two"))).ExitCode);
        var waiting = await UntilPhase("n1", "site-canary", "waiting-for-resume");
        Assert.Equal(["n3"], waiting.Batches[0].Nodes.Select(n => n.Node));
        Assert.Equal(["n3"], Holding("site-canary", "two"));

        var again = await mesh["n1"].Cli("push", Canary("site-canary", "three"));
        Assert.Equal(5, again.ExitCode);
        Assert.Contains("is waiting-for-resume", again.Printed);

        Assert.Equal(0, (await mesh["n5"].Cli("rollout", "resume", "site-canary")).ExitCode);
        await UntilPhase("n6", "site-canary", "completed");
        Assert.Equal(6, Holding("site-canary", "two").Length);
    }

    [Fact]
    public async Task An_aborted_rollout_starts_no_further_node_and_frees_the_manifest_for_a_new_push()
    {
        await PushPlain("site-abort");
        Assert.Equal(0, (await mesh["n2"].Cli("push", Canary("site-abort", "two"))).ExitCode);
        await UntilPhase("n1", "site-abort", "waiting-for-resume");
        var aborted = await mesh["n4"].Cli("rollout", "abort", "site-abort");
        Assert.True(aborted.ExitCode == 0, aborted.ToString());
        await UntilPhase("n6", "site-abort", "aborted");
        Assert.Equal(["n3"], Holding("site-abort", "two"));
        Assert.Equal(2, (await mesh["n4"].Cli("rollout", "resume", "site-abort")).ExitCode);

        // Over: the next push of the manifest needs no --force, and takes the fleet to it.
        var next = await mesh["n1"].Cli("push", Site("site-abort", "three", rollout: true), "--wait", "--timeout", "120s");
        Assert.True(next.ExitCode == 0, next.ToString());
        Assert.Equal(6, Holding("site-abort", "three").Length);
    }
}
