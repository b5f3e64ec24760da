using System.Diagnostics;
using System.Text.Json;
using Mesh.Protocol.Api;

namespace Mesh.EndToEnd.Tests;

/// <summary>The core loop with real processes: the mesh CLI drives mesh-node processes over their control API.</summary>
[Collection(EndToEndCollection.Name)]
public sealed class CoreLoopTests(ThreeNodeMesh mesh) : IClassFixture<ThreeNodeMesh>
{
    [Fact]
    public async Task Push_wait_from_the_second_node_reaches_exactly_the_targeted_nodes()
    {
        var everywhere = mesh.Manifest("site.yaml", """
            manifest: site
            resources:
              - id: etc
                type: directory
                path: /etc
              - id: motd
                type: file
                path: /etc/motd
                content: "managed by mesh\n"
                mode: "0644"
                requires: [etc]
            """);
        var webOnly = mesh.Manifest("webconf.yaml", """
            manifest: webconf
            target:
              roles: [web]
            resources:
              - { id: srv, type: directory, path: /srv, mode: "0750" }
              - { id: conf, type: file, path: /srv/web.conf, content: "workers = 4\n", requires: [srv] }
            """);

        var push = await mesh.Cli(mesh.B, "push", everywhere, webOnly, "--wait", "--timeout", "60s", "-m", "first push");

        Assert.True(push.ExitCode == 0, push.ToString());
        foreach (var node in new[] { "a", "b", "c" }) Assert.Matches($@"ok\s+{node}\s+site", push.Out);
        Assert.Matches(@"ok\s+b\s+webconf", push.Out);
        Assert.Contains("all 4 report(s) ok", push.Out);
        foreach (var node in mesh.All) Assert.Equal("managed by mesh\n", File.ReadAllText(node.RootPath("/etc/motd")));
        Assert.Equal("workers = 4\n", File.ReadAllText(mesh.B.RootPath("/srv/web.conf")));
        Assert.False(Directory.Exists(mesh.A.RootPath("/srv")));
        Assert.False(Directory.Exists(mesh.C.RootPath("/srv")));
    }

    [Fact]
    public async Task A_node_started_later_configures_itself_and_leaves_gracefully()
    {
        var welcome = mesh.Manifest("welcome.yaml", """
            manifest: welcome
            target: { nodes: ["d*"] }
            resources:
              - { id: hello, type: file, path: /hello, content: "welcome\n" }
            """);
        var push = await mesh.Cli(mesh.C, "push", welcome);
        Assert.True(push.ExitCode == 0, push.ToString());
        Assert.Contains("no node is targeted", push.Out);

        await using var d = await NodeProcess.StartAsync("d1", mesh.WorkDir, seed: mesh.C.ClusterAddress);
        await ThreeNodeMesh.Until(() => Task.FromResult(File.Exists(d.RootPath("/hello"))), "d1 configures itself", TimeSpan.FromSeconds(30));
        Assert.Equal("welcome\n", File.ReadAllText(d.RootPath("/hello")));
        await ThreeNodeMesh.Until(async () => (await mesh.A.StatusAsync()).Manifests.Any(s => s is { Node: "d1", Manifest: "welcome", State: "ok" }),
            "a sees d1's report");

        Assert.Equal(0, await d.StopAsync());
        await ThreeNodeMesh.Until(async () => (await mesh.A.MembersAsync()).All(m => m.Name != "d1"), "d1 has left the cluster");
    }

    [Fact]
    public async Task Members_and_status_agree_across_nodes()
    {
        var file = mesh.Manifest("agree.yaml", "manifest: agree\nresources:\n  - { id: f, type: file, path: /agree }\n");
        Assert.Equal(0, (await mesh.Cli(mesh.A, "push", file, "--wait")).ExitCode);
        // push --wait heard every report live at a; the other nodes' replicas of the reports follow by gossip.
        foreach (var via in mesh.All)
            await ThreeNodeMesh.Until(async () => (await via.StatusAsync()).Manifests.Count(s => s is { Manifest: "agree", State: "ok" }) == 3,
                $"{via.Name}'s replica has the three reports");

        foreach (var via in mesh.All)
        {
            var members = (await mesh.Cli(via, "members", "--json")).Json<MemberInfo[]>();
            Assert.Equal(["a", "b", "c"], members.Where(m => m.Status == "up").Select(m => m.Name).Order());
            Assert.Equal(via.Name, members.Single(m => m.Self).Name);

            var report = (await mesh.Cli(via, "status", "--json")).Json<StatusReport>();
            Assert.Equal(via.Name, report.Node);
            Assert.False(report.Offline);
            Assert.Null(report.OfflineSince);
            var status = report.Manifests;
            var agree = status.Where(s => s.Manifest == "agree").ToArray();
            Assert.Equal(["a", "b", "c"], agree.Select(s => s.Node).Order());
            Assert.All(agree, s => Assert.Equal("ok", s.State));
            Assert.All(status.Select(s => s.Node), n => Assert.Contains(n, members.Select(m => m.Name)));
        }

        var table = await mesh.Cli(mesh.C, "members");
        Assert.Equal(0, table.ExitCode);
        Assert.Contains("web", table.Out);
        Assert.Contains("env=prod", table.Out);
        var list = (await mesh.Cli(mesh.B, "list", "--json")).Json<ManifestSummary[]>();
        Assert.Contains(list, m => m.Revision.Manifest == "agree" && m.Revision.Origin == "a");
        var get = await mesh.Cli(mesh.C, "get", "agree");
        Assert.Equal(0, get.ExitCode);
        Assert.Contains("/agree", get.Out);
    }

    [Fact]
    public async Task A_malformed_manifest_is_refused_naming_file_line_and_field_and_nothing_is_stored()
    {
        var bad = mesh.Manifest("bad.yaml", """
            manifest: refused
            resources:
              - id: conf
                type: file
                path: /etc/app.conf
                contnet: "typo"
            """);

        var push = await mesh.Cli(mesh.B, "push", bad, "--wait");

        Assert.Equal(2, push.ExitCode);
        Assert.Contains("bad.yaml:6:", push.Err);
        Assert.Contains("contnet", push.Err);
        Assert.Contains("unknown field", push.Err);
        foreach (var node in mesh.All)
            Assert.DoesNotContain((await mesh.Cli(node, "list", "--json")).Json<ManifestSummary[]>(), m => m.Revision.Manifest == "refused");
    }

    [Fact]
    public async Task A_path_that_escapes_the_root_is_refused_at_push_time()
    {
        var escape = mesh.Manifest("escape.yaml", """
            manifest: escape
            resources:
              - { id: shadow, type: file, path: /etc/../../../etc/shadow, content: "x" }
            """);

        var push = await mesh.Cli(mesh.A, "push", escape);

        Assert.Equal(2, push.ExitCode);
        Assert.Contains("escape.yaml:3:", push.Err);
        Assert.Contains("escapes the root", push.Err);
        Assert.DoesNotContain((await mesh.Cli(mesh.C, "list", "--json")).Json<ManifestSummary[]>(), m => m.Revision.Manifest == "escape");
    }

    [Fact]
    public async Task Push_wait_fails_and_names_the_node_whose_apply_failed()
    {
        var failing = mesh.Manifest("failing.yaml", """
            manifest: failing
            target: { labels: { env: prod } }
            resources:
              - { id: orphan, type: file, path: /no/such/dir/file, content: x }
            """);

        var push = await mesh.Cli(mesh.A, "push", failing, "--wait", "--timeout", "60s");

        Assert.Equal(1, push.ExitCode);
        Assert.Contains("failed: c (failing)", push.Out);
        Assert.Contains("parent directory /no/such/dir", push.Out);
        // B shows it too, once c's report has reached B's replica.
        ProcessResult status = null!;
        await ThreeNodeMesh.Until(async () => (status = await mesh.Cli(mesh.B, "status", "failing")).Out.Contains("failed"), "B's status shows c's failure");
        Assert.Equal(1, status.ExitCode);
    }

    [Fact]
    public async Task Push_wait_rollback_wait_and_status_summarise_the_fleet_and_status_filters_by_state_and_node_name()
    {
        // Applies where /summary-dir exists (a and b), fails on c.
        foreach (var node in new[] { mesh.A, mesh.B }) Directory.CreateDirectory(node.RootPath("/summary-dir"));
        string Site(string path) => mesh.Manifest($"summary-{path.Replace('/', '-')}.yaml",
            $"manifest: summary\nresources:\n  - {{ id: page, type: file, path: {path}, content: x }}\n");

        var push = await mesh.Cli(mesh.A, "push", Site("/summary-dir/page"), "--wait", "--timeout", "60s", "--summary");
        Assert.True(push.ExitCode == 1, push.ToString());
        var lines = push.Out.TrimEnd('\n').Split('\n');
        Assert.Contains("-> 3 node(s): a, b, c", lines[0]);
        Assert.DoesNotContain(lines, l => l.StartsWith("  ok "));
        Assert.Contains(lines, l => l.StartsWith("  FAILED  c  summary") && l.Contains("parent directory /summary-dir"));
        Assert.Contains("[####################] 3/3 2 ok, 1 failed", lines);
        Assert.Equal("failed (1):", lines[^3]);
        Assert.StartsWith("  c (summary): ", lines[^2]);
        Assert.Equal("1 failed, 0 pending, 0 silent, 2 ok", lines[^1]);
        var first = (await mesh.Cli(mesh.A, "list", "--json")).Json<ManifestSummary[]>().Single(m => m.Revision.Manifest == "summary").Revision.Version;

        // Any node's status, once the three reports reached it: a line for the manifest, and only c by name.
        ProcessResult summary = null!;
        await ThreeNodeMesh.Until(async () => (summary = await mesh.Cli(mesh.B, "status", "summary", "--summary")).Out.Contains("2 ok, 1 failed"),
            "B's summary shows a and b ok and c's failure");
        Assert.Equal(1, summary.ExitCode);
        Assert.Matches(@"summary\s+\S+\s+3\s+2 ok, 1 failed\s+\[#############\.{7}\] 2/3", summary.Out);
        Assert.Contains("  c  summary: ", summary.Out);
        Assert.DoesNotContain("  a  summary", summary.Out);

        var failed = await mesh.Cli(mesh.B, "status", "summary", "--failed", "--json");
        Assert.Equal(1, failed.ExitCode);
        Assert.Equal(["c"], failed.Json<StatusReport>().Manifests.Select(s => s.Node));
        var onA = await mesh.Cli(mesh.B, "status", "summary", "--node", "a*", "--json");
        Assert.True(onA.ExitCode == 0, onA.ToString());
        Assert.Equal([("a", "ok")], onA.Json<StatusReport>().Manifests.Select(s => (s.Node, s.State)));
        var nobody = await mesh.Cli(mesh.B, "status", "summary", "--node", "web-?");
        Assert.Equal(0, nobody.ExitCode);
        Assert.Equal("no targeted node matches 'web-?'\n", nobody.Out);
        var refused = await mesh.B.GetAsync("v1/status?state=ok,broken");
        Assert.Equal(System.Net.HttpStatusCode.BadRequest, refused.StatusCode);
        Assert.Contains("state 'broken' is not one of ok, pending, failed, rejected", await refused.Content.ReadAsStringAsync());

        // A revision that applies everywhere, then a rollback to the one that failed on c: followed the same way.
        var fixedUp = await mesh.Cli(mesh.B, "push", Site("/summary-page"), "--wait", "--timeout", "60s", "--summary");
        Assert.True(fixedUp.ExitCode == 0, fixedUp.ToString());
        Assert.EndsWith("[####################] 3/3 3 ok\nall 3 report(s) ok\n", fixedUp.Out);
        Assert.Empty((await mesh.Cli(mesh.C, "status", "summary", "--failed", "--json")).Json<StatusReport>().Manifests);

        var back = await mesh.Cli(mesh.C, "rollback", "summary", "--to", first.ToString(), "--wait", "--timeout", "60s", "--summary");
        Assert.True(back.ExitCode == 1, back.ToString());
        Assert.Contains("failed (1):", back.Out);
        Assert.EndsWith("1 failed, 0 pending, 0 silent, 2 ok\n", back.Out);
    }

    [Fact]
    public async Task A_push_over_a_head_that_moved_on_is_refused_unless_forced()
    {
        var v1 = mesh.Manifest("cas.yaml", "manifest: cas\nresources:\n  - { id: f, type: file, path: /cas, content: \"one\\n\" }\n");
        Assert.Equal(0, (await mesh.Cli(mesh.A, "push", v1, "--wait")).ExitCode);
        // push --wait heard the reports live; b's replica of the index follows by gossip.
        var seen = (await HeadVia(mesh.B, r => true)).Version.ToString();
        var v2 = mesh.Manifest("cas.yaml", "manifest: cas\nresources:\n  - { id: f, type: file, path: /cas, content: \"two\\n\" }\n");
        Assert.Equal(0, (await mesh.Cli(mesh.C, "push", v2, "-m", "someone else's change", "--wait")).ExitCode);
        await HeadVia(mesh.B, r => r.Message == "someone else's change");

        var v3 = mesh.Manifest("cas.yaml", "manifest: cas\nresources:\n  - { id: f, type: file, path: /cas, content: \"three\\n\" }\n");
        var stale = await mesh.Cli(mesh.B, "push", v3, "--parent", seen);

        Assert.Equal(5, stale.ExitCode);
        Assert.Contains("someone else's change", stale.Err);
        Assert.Contains("--force", stale.Err);
        Assert.All(mesh.All, n => Assert.Equal("two\n", File.ReadAllText(n.RootPath("/cas"))));

        var forced = await mesh.Cli(mesh.B, "push", v3, "--parent", seen, "--force", "--wait");
        Assert.True(forced.ExitCode == 0, forced.ToString());
        Assert.All(mesh.All, n => Assert.Equal("three\n", File.ReadAllText(n.RootPath("/cas"))));
    }

    /// <summary>The head of "cas" as the given node shows it, once it satisfies <paramref name="ready"/>.</summary>
    private async Task<Mesh.Protocol.Wire.RevisionRecord> HeadVia(NodeProcess via, Func<Mesh.Protocol.Wire.RevisionRecord, bool> ready)
    {
        Mesh.Protocol.Wire.RevisionRecord? head = null;
        await ThreeNodeMesh.Until(async () =>
        {
            var get = await mesh.Cli(via, "get", "cas", "--json");
            head = get.ExitCode == 0 ? get.Json<ManifestDetail>().Revision : null;
            return head is not null && ready(head);
        }, $"{via.Name} shows the expected head of cas");
        return head!;
    }

    [Fact]
    public async Task History_shows_every_revision_and_rollback_from_any_node_restores_it_everywhere()
    {
        var good = mesh.Manifest("hist.yaml", "manifest: hist\nresources:\n  - { id: f, type: file, path: /hist, content: \"good\\n\" }\n");
        Assert.Equal(0, (await mesh.Cli(mesh.A, "push", good, "-m", "known good", "--wait")).ExitCode);
        var bad = mesh.Manifest("hist.yaml", "manifest: hist\nresources:\n  - { id: f, type: file, path: /hist, content: \"bad\\n\" }\n");
        Assert.Equal(0, (await mesh.Cli(mesh.B, "push", bad, "-m", "oops", "--wait")).ExitCode);

        // push --wait heard the reports live; c's replica of the other nodes' reports follows by gossip.
        HistoryEntry[] history = [];
        await ThreeNodeMesh.Until(async () =>
        {
            history = (await mesh.Cli(mesh.C, "history", "hist", "--json")).Json<HistoryEntry[]>();
            return history.Length == 2 && history[0].AppliedBy.Length == 3;
        }, "c's history says all three nodes applied the head");
        Assert.Equal(["oops", "known good"], history.Select(h => h.Revision.Message));
        Assert.True(history[0].Head);
        Assert.Equal(["a", "b", "c"], history[0].AppliedBy);
        var goodVersion = history[1].Revision.Version.ToString();
        var old = await mesh.Cli(mesh.C, "get", "hist", "--revision", goodVersion);
        Assert.Contains("good", old.Out);
        Assert.DoesNotContain("bad", old.Out);

        var rollback = await mesh.Cli(mesh.C, "rollback", "hist", "--to", history[1].Revision.Hash[..10], "--wait");

        Assert.True(rollback.ExitCode == 0, rollback.ToString());
        Assert.All(mesh.All, n => Assert.Equal("good\n", File.ReadAllText(n.RootPath("/hist"))));
        // The majority that acknowledged the rollback may be c and b; a's replica follows by gossip.
        var after = await ThreeNodeMesh.Until(async () => (await mesh.Cli(mesh.A, "history", "hist", "--json")).Json<HistoryEntry[]>() is { Length: 3 } h ? h : null,
            "a's history has the rollback");
        Assert.Equal($"rollback to {goodVersion}", after[0].Revision.Message);
        Assert.Equal("c", after[0].Revision.Origin);
        Assert.Equal(4, (await mesh.Cli(mesh.A, "rollback", "hist", "--to", "0.0@nowhere")).ExitCode);
    }

    [Fact]
    public async Task The_audit_trail_of_every_node_says_who_pushed_what_and_what_each_node_did()
    {
        var since = DateTimeOffset.UtcNow.AddSeconds(-1).ToString("O");
        var file = mesh.Manifest("audited.yaml", "manifest: audited\ntarget: { roles: [web] }\nresources:\n  - { id: f, type: file, path: /audited }\n");
        Assert.Equal(0, (await mesh.Cli(mesh.C, "push", file, "-m", "for the record", "--wait")).ExitCode);

        var audit = (await mesh.Cli(mesh.A, "audit", "--since", since, "--json")).Json<Mesh.Protocol.Wire.AuditEntry[]>()
            .Where(e => e.Manifest == "audited").ToArray();

        Assert.Contains(audit, e => e is { Node: "c", Kind: "pushed", Detail: "for the record" } && e.Who.Contains('@'));
        Assert.Contains(audit, e => e is { Node: "b", Kind: "received" });
        Assert.Contains(audit, e => e is { Node: "b", Kind: "applied" });
        Assert.DoesNotContain(audit, e => e.Node == "a" && e.Kind is "received" or "applied");
        var onlyB = (await mesh.Cli(mesh.A, "audit", "--node", "b", "--since", "10m", "--json")).Json<Mesh.Protocol.Wire.AuditEntry[]>();
        Assert.All(onlyB, e => Assert.Equal("b", e.Node));
        Assert.Contains(onlyB, e => e.Manifest == "audited");
    }

    [Fact]
    public async Task Asking_for_a_manifest_that_does_not_exist_exits_4()
    {
        var status = await mesh.Cli(mesh.A, "status", "no-such-manifest");
        var get = await mesh.Cli(mesh.B, "get", "no-such-manifest");

        Assert.Equal(4, status.ExitCode);
        Assert.Contains("no manifest named 'no-such-manifest'", status.Err);
        Assert.Equal(4, get.ExitCode);
    }

    [Fact]
    public async Task Events_streams_reports_live()
    {
        var info = Binaries.StartInfo(Binaries.Cli, null, mesh.WorkDir, ["--api", mesh.A.Api, "events", "--json"]);
        using var events = Process.Start(info)!;
        try
        {
            // The stream announces itself on stderr once the node has registered it.
            await events.StandardError.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(30));
            var file = mesh.Manifest("live.yaml", "manifest: live\ntarget: { roles: [web] }\nresources:\n  - { id: f, type: file, path: /live }\n");
            Assert.Equal(0, (await mesh.Cli(mesh.C, "push", file)).ExitCode);

            MeshEvent? report = null;
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            while (report is null && await events.StandardOutput.ReadLineAsync(timeout.Token) is { } line)
            {
                var e = JsonSerializer.Deserialize<MeshEvent>(line, ApiJson.Options);
                if (e?.Report is { Manifest: "live" }) report = e;
            }
            Assert.NotNull(report);
            Assert.Equal("b", report.Report!.Node);
            Assert.True(report.Report.Succeeded);
        }
        finally
        {
            events.Kill(entireProcessTree: true);
            await events.WaitForExitAsync();
        }
    }
}
