using System.Net.Http.Json;
using System.Text;
using Mesh.Protocol.Api;
using Mesh.Protocol.Signing;
using Mesh.Protocol.Tasks;

namespace Mesh.EndToEnd.Tests;

/// <summary>
/// Tasks (mesh run) with real processes and the real CLI: each targeted node runs a task once,
/// also when it was down when the task was posted, never twice across a restart or a kill -9,
/// never once it expired, and never when its key is not trusted for tasks.
/// </summary>
[Collection(SecondEndToEndLane.Name)]
public sealed class TaskTests : IAsyncLifetime
{
    private readonly NodeGroup _nodes = NodeGroup.InTempDirectory("mesh-e2e-tasks-");

    private string Enabled => _nodes.Write("tasks-on.hocon", "mesh.tasks.enabled = on\n");

    private Task<NodeProcess> Start(string name, NodeProcess? seed, string[]? roles = null, IEnumerable<string>? extra = null, bool enabled = true) =>
        _nodes.StartAsync(name, seed: seed?.ClusterAddress, roles: roles, extraArgs: [.. enabled ? new[] { "--config", Enabled } : [], .. extra ?? []]);

    /// <summary>A command that appends the node's name to <c>ran-NODE</c> in the work directory: how many lines, how many runs.</summary>
    private string[] Mark(string tag, string then = "") =>
        ["--", "sh", "-c", $"echo $MESH_NODE >> '{_nodes.WorkDir}/{tag}-'$MESH_NODE; echo ran on $MESH_NODE{then}"];

    private int Runs(string tag, string node) =>
        File.Exists(Path.Combine(_nodes.WorkDir, $"{tag}-{node}")) ? File.ReadAllLines(Path.Combine(_nodes.WorkDir, $"{tag}-{node}")).Length : 0;

    private static async Task<TaskView> View(NodeProcess via, string id)
    {
        var got = await via.Cli("task", "get", id, "--json");
        Assert.True(got.ExitCode == 0, got.ToString());
        return got.Json<TaskView>();
    }

    private static Task<TaskResult> StateOf(NodeProcess via, string id, string node, Func<TaskResult, bool> settled, string what) =>
        ThreeNodeMesh.Until(async () => (await View(via, id)).Nodes.FirstOrDefault(r => r.Node == node && settled(r)), what, TimeSpan.FromSeconds(60));

    private static string Posted(ProcessResult posted)
    {
        Assert.True(posted.ExitCode == 0, posted.ToString());
        return posted.Json<TaskView>().Task.Id;
    }

    [Fact]
    public async Task A_task_for_the_web_role_runs_once_on_every_web_node_also_one_stopped_when_it_was_posted_and_a_disabled_node_says_so()
    {
        var a = await Start("a", null);
        var joining = new[] { Start("b", a, ["web"]), Start("c", a, ["web"]), Start("off", a, ["web"], enabled: false) };
        var (b, c, off) = (await joining[0], await joining[1], await joining[2]);
        await ThreeNodeMesh.Until(async () => (await a.MembersAsync()).Count(m => m.Status == "up") == 4, "four members up");
        Assert.Equal(0, await c.StopAsync());
        await ThreeNodeMesh.Until(async () => (await a.MembersAsync()).All(m => m.Name != "c"), "c has left");

        var run = await a.Cli(["run", "--target", "{roles: [web]}", "--ttl", "10m", "--wait", "--wait-timeout", "60s", .. Mark("ran")]);
        // b ran it; the disabled node answered at once rather than staying silent; c was not a member.
        Assert.Equal(1, run.ExitCode);
        Assert.Matches(@"ok\s+b\s+exit 0", run.Out);
        Assert.Contains("| ran on b", run.Out);
        Assert.Matches(@"REFUSED\s+off\s+tasks are disabled on this node", run.Out);
        Assert.Contains("2 node(s): 1 ok, 1 refused", run.Out);
        var id = (await a.Cli("tasks", "--json")).Json<TaskView[]>().Single().Task.Id;

        // c comes back within the task's time to live: it runs it, once.
        var back = await Start("c", a, ["web"]);
        var result = await StateOf(a, id, "c", r => TaskStates.Final(r.State), "c answers the task it missed");
        Assert.Equal(TaskStates.Ok, result.State);
        Assert.Equal(0, result.ExitCode);
        Assert.Equal("ran on c\n", result.Stdout);

        // And never again: not after another restart either (a later task proves c has looked at what it holds).
        Assert.Equal(0, await back.StopAsync());
        var again = await Start("c", a, ["web"]);
        var later = await again.Cli(["run", "--target", "{nodes: [c]}", "--wait", .. Mark("later")]);
        Assert.True(later.ExitCode == 0, later.ToString());
        Assert.Equal(1, Runs("ran", "b"));
        Assert.Equal(1, Runs("ran", "c"));
        Assert.Equal(0, Runs("ran", "a"));
        Assert.Equal(0, Runs("ran", "off"));

        // Every node's state in the list; the full output from the node that kept it; the trail.
        var listed = await a.Cli("tasks");
        Assert.Contains("2 ok, 1 refused", listed.Out);
        var output = await a.Cli("task", "get", id, "--node", "c");
        Assert.True(output.ExitCode == 0, output.ToString());
        Assert.Contains("ran on c", output.Out);
        var audit = await a.Cli("audit", "--json");
        foreach (var kind in new[] { "task posted", "task started", "task finished", "task refused" })
            Assert.Contains($"\"kind\":\"{kind}\"", audit.Out);
    }

    [Fact]
    public async Task A_node_killed_while_it_runs_a_task_reports_it_interrupted_after_its_restart_and_never_runs_it_again()
    {
        // Three nodes, so that the two left keep the majority and down the killed one; quickly, not after the default 20 s.
        string[] fast = ["--config", _nodes.Write("fast-downing.hocon", "mesh.tasks.enabled = on\nakka.cluster.split-brain-resolver.stable-after = 2s\n")];
        var a = await Start("a", null, extra: fast, enabled: false);
        var joining = new[] { Start("b", a, extra: fast, enabled: false), Start("c", a, extra: fast, enabled: false) };
        var b = await joining[0];
        await joining[1];
        var id = Posted(await a.Cli(["run", "--target", "{nodes: [b]}", "--timeout", "5m", "--json", .. Mark("long", "; sleep 300")]));
        await ThreeNodeMesh.Until(() => Task.FromResult(Runs("long", "b") == 1), "b starts the task", TimeSpan.FromSeconds(60));
        Assert.Equal(TaskStates.Running, (await StateOf(a, id, "b", r => r.State == TaskStates.Running, "a sees b running it")).State);

        await b.KillAsync();
        var back = await Start("b", a, extra: fast, enabled: false);

        var result = await StateOf(a, id, "b", r => TaskStates.Final(r.State), "b settles the interrupted task");
        Assert.Equal(TaskStates.Failed, result.State);
        Assert.Contains("interrupted by a node restart; not run again", result.Reason);
        var later = await back.Cli(["run", "--target", "{nodes: [b]}", "--wait", .. Mark("later")]);
        Assert.True(later.ExitCode == 0, later.ToString());
        Assert.Equal(1, Runs("long", "b"));
    }

    [Fact]
    public async Task A_task_that_expired_while_a_node_was_down_is_not_run_there_and_cancel_stops_a_running_one()
    {
        var a = await Start("a", null);
        var b = await Start("b", a);
        Assert.Equal(0, await b.StopAsync());
        await ThreeNodeMesh.Until(async () => (await a.MembersAsync()).All(m => m.Name != "b"), "b has left");

        var id = Posted(await a.Cli(["run", "--target", "{nodes: [b]}", "--ttl", "2s", "--json", .. Mark("expired")]));
        var expires = (await View(a, id)).Task.Spec.Expires;
        await ThreeNodeMesh.Until(() => Task.FromResult(DateTimeOffset.UtcNow > expires.AddSeconds(1)), "the task expires");
        var back = await Start("b", a);

        var result = await StateOf(a, id, "b", r => TaskStates.Final(r.State), "b answers the expired task");
        Assert.Equal(TaskStates.Expired, result.State);
        Assert.Contains("before this node could start it", result.Reason);
        Assert.Equal(0, Runs("expired", "b"));

        // Cancelled while it runs: killed, failed, and a node that had not started it never does.
        var running = Posted(await a.Cli(["run", "--target", "{nodes: [b]}", "--timeout", "5m", "--json", .. Mark("cancelled", "; sleep 300")]));
        await ThreeNodeMesh.Until(() => Task.FromResult(Runs("cancelled", "b") == 1), "b starts it", TimeSpan.FromSeconds(60));
        var cancelled = await a.Cli("task", "cancel", running);
        Assert.True(cancelled.ExitCode == 0, cancelled.ToString());
        var killed = await StateOf(a, running, "b", r => TaskStates.Final(r.State), "b stops the cancelled task");
        Assert.Equal(TaskStates.Failed, killed.State);
        Assert.Equal("cancelled while running", killed.Reason);
        Assert.False(back.HasExited);
    }

    [Fact]
    public async Task A_task_key_not_trusted_for_tasks_is_refused_by_every_trusting_node_and_a_trusted_one_runs_everywhere()
    {
        var alice = await Keygen("alice");
        var bob = await Keygen("bob");
        // Alice may push and post tasks; Bob (a plain entry, as trust lists were written before tasks) may only push.
        var trusting = _nodes.Write("trust.hocon",
            $"mesh.tasks.enabled = on\nmesh.trusted-keys {{\n  alice {{ key = \"{alice}.pub\", allow = [push, tasks] }}\n  bob = \"{bob}.pub\"\n}}\n");
        var open = await Start("open", null);
        var joining = new[] { Start("s1", open, extra: ["--config", trusting], enabled: false), Start("s2", open, extra: ["--config", trusting], enabled: false) };
        var (s1, s2) = (await joining[0], await joining[1]);
        await ThreeNodeMesh.Until(async () => (await open.MembersAsync()).Count(m => m.Status == "up") == 3, "three members up");

        var bobs = await open.Cli(["--key", bob, "run", "--wait", .. Mark("bob")]);
        Assert.Equal(1, bobs.ExitCode);
        Assert.Matches(@"ok\s+open", bobs.Out);
        var bobId = PublicKey.Parse(bob + ".pub", "bob").Id;
        foreach (var node in new[] { "s1", "s2" })
            Assert.Matches($@"REJECTED\s+{node}\s+signed by bob \({bobId}\), a key this node does not trust for tasks", bobs.Out);

        var unsigned = await open.Cli(["run", "--wait", .. Mark("unsigned")]);
        Assert.Equal(1, unsigned.ExitCode);
        Assert.Matches(@"REJECTED\s+s1\s+unsigned: this node runs only tasks signed by a trusted key", unsigned.Out);

        // Straight to a trusting node: refused at its door (403, exit 6), nothing recorded.
        var before = (await s1.Cli("tasks", "--json")).Json<TaskView[]>().Length;
        var refused = await s1.Cli(["--key", bob, "run", .. Mark("refused")]);
        Assert.Equal(6, refused.ExitCode);
        Assert.Contains("not signed by a key this node trusts for tasks", refused.Err);
        Assert.Equal(before, (await s1.Cli("tasks", "--json")).Json<TaskView[]>().Length);

        var alices = await s1.Cli(["--key", alice, "run", "--wait", .. Mark("alice")]);
        Assert.True(alices.ExitCode == 0, alices.ToString());
        Assert.Contains("3 node(s): 3 ok", alices.Out);
        foreach (var node in new[] { "s1", "s2" })
        {
            Assert.Equal(0, Runs("bob", node));
            Assert.Equal(0, Runs("unsigned", node));
            Assert.Equal(1, Runs("alice", node));
        }
        // Bob's plain entry still lets him push, as it always did.
        var push = await s1.Cli("--key", bob, "push", _nodes.Write("motd.yaml", "manifest: motd\nresources:\n  - { id: f, type: file, path: /motd, content: \"hi\\n\" }\n"), "--wait");
        Assert.True(push.ExitCode == 0, push.ToString());
    }

    [Fact]
    public async Task In_batches_of_one_the_nodes_run_a_task_one_after_another_in_name_order_with_its_secret_opened_and_redacted()
    {
        var a = await Start("a", null);
        var joining = new[] { Start("b", a), Start("c", a) };
        var (b, c) = (await joining[0], await joining[1]);
        await ThreeNodeMesh.Until(async () => (await a.MembersAsync()).Count(m => m.Status == "up") == 3, "three members up");
        var log = Path.Combine(_nodes.WorkDir, "batches.log");
        var script = _nodes.Write("batch.sh",
            $"echo \"$MESH_NODE start\" >> '{log}'\nsleep 1\n[ \"${{TOKEN#s3cr3t-}}\" = 'token-value' ] && echo \"token $TOKEN matches\"\necho \"$MESH_NODE end\" >> '{log}'\n");

        // The script names only part of the secret: the task itself, unlike its output, is not redacted.
        var run = await b.Cli("run", "--batch", "1", "--secret", "TOKEN=s3cr3t-token-value", "--script", script, "--wait");
        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.True(File.ReadAllLines(log).SequenceEqual(["a start", "a end", "b start", "b end", "c start", "c end"]),
            $"{string.Join(" | ", File.ReadAllLines(log))}\n{run}\n{b.Log}");
        Assert.Equal(3, run.Out.Split('\n').Count(l => l.Contains("| token [secret] matches")));
        Assert.DoesNotContain("s3cr3t-token-value", run.Out);
        var id = (await a.Cli("tasks", "--json")).Json<TaskView[]>().Single().Task.Id;
        Assert.DoesNotContain("s3cr3t-token-value", (await a.Cli("task", "get", id, "--json")).Out);
        Assert.DoesNotContain("s3cr3t-token-value", (await a.Cli("task", "get", id, "--node", "c")).Out);
    }

    [Fact]
    public async Task Bad_tasks_get_a_clear_error_naming_what_is_wrong_and_record_nothing()
    {
        var a = await Start("a", null);
        var empty = await a.Cli("run", "--target", "", "--", "true");
        Assert.Equal(2, empty.ExitCode);
        Assert.Contains("the target is empty", empty.Err);
        var list = await a.Cli("run", "--target", "[web]", "--", "true");
        Assert.Equal(2, list.ExitCode);
        Assert.Contains("a target is a mapping", list.Err);
        var none = await a.Cli("run");
        Assert.Equal(2, none.ExitCode);
        Assert.Contains("no command", none.Err);
        var ttl = await a.Cli("run", "--ttl", "200h", "--", "true");
        Assert.Equal(2, ttl.ExitCode);
        Assert.Contains("--ttl", ttl.Err);
        var cwd = await a.Cli("run", "--cwd", "relative/dir", "--", "true");
        Assert.Equal(2, cwd.ExitCode);
        Assert.Contains("--cwd 'relative/dir': must be an absolute path", cwd.Err);

        // What the CLI would not send, straight to the API: each a 400 that names the field.
        using var http = new HttpClient { BaseAddress = new Uri($"http://{a.Api}/") };
        async Task Refused(string body, string says)
        {
            var response = await http.PostAsync("v1/tasks", new StringContent(body, Encoding.UTF8, "application/json"));
            Assert.Equal(400, (int)response.StatusCode);
            Assert.Contains(says, (await response.Content.ReadFromJsonAsync<ApiError>(ApiJson.Options))!.Error);
        }
        var now = DateTimeOffset.UtcNow.ToString("O");
        await Refused($$$"""{"spec":{"id":"t1","command":5,"target":"","issued":"{{{now}}}","ttl":"00:10:00","timeout":"00:01:00"}}""", "request body is not a task");
        await Refused($$$"""{"spec":{"id":"t1","command":"uptime","target":"","issued":"{{{now}}}","ttl":"00:10:00","timeout":"00:01:00"}}""", "request body is not a task");
        await Refused($$$"""{"spec":{"id":"t1","command":[],"target":"","issued":"{{{now}}}","ttl":"00:10:00","timeout":"00:01:00"}}""", "command: the list is empty");
        await Refused($$$"""{"spec":{"id":"t1","command":["true"],"script":"true","target":"","issued":"{{{now}}}","ttl":"00:10:00","timeout":"00:01:00"}}""", "not both");
        await Refused($$$"""{"spec":{"id":"t1","command":["true"],"target":"{roles: [","issued":"{{{now}}}","ttl":"00:10:00","timeout":"00:01:00"}}""", "--target: invalid target");
        await Refused($$$"""{"spec":{"id":"t1","command":["true"],"target":"","issued":"2020-01-01T00:00:00Z","ttl":"00:10:00","timeout":"00:01:00"}}""", "replayed task");
        await Refused($$$"""{"spec":{"id":"../x","command":["true"],"target":"","issued":"{{{now}}}","ttl":"00:10:00","timeout":"00:01:00"}}""", "id '../x'");
        await Refused("""{"author":"x"}""", "'spec' is missing");

        Assert.Empty((await a.Cli("tasks", "--json")).Json<TaskView[]>());
    }

    private async Task<string> Keygen(string name)
    {
        var path = Path.Combine(_nodes.WorkDir, name + ".key");
        var made = await MeshCli.RunAsync(_nodes.WorkDir, "keygen", "--out", path, "--name", name, "--json");
        Assert.True(made.ExitCode == 0, made.ToString());
        return path;
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _nodes.DisposeAsync();
}
