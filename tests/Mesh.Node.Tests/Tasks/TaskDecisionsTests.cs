using Mesh.Node.Tasks;
using Mesh.Protocol.Manifests;
using Mesh.Protocol.Signing;
using Mesh.Protocol.Tasks;
using Mesh.Protocol.Versioning;

namespace Mesh.Node.Tests.Tasks;

/// <summary>The runner's decisions, without an actor: what a node does with a task it sees, and the batch rule.</summary>
public sealed class TaskDecisionsTests
{
    private static readonly DateTimeOffset Now = DateTimeOffset.UtcNow;
    private static readonly NodeIdentity Web2 = new("web2", new HashSet<string> { "web" }, new Dictionary<string, string>());

    private static TaskRecord Task(string target = "{roles: [web]}", int batch = 0, string[]? targets = null, DateTimeOffset? issued = null) =>
        new(new TaskSpec("t1", ["uptime"], null, target, issued ?? Now, TimeSpan.FromMinutes(10), TimeSpan.FromMinutes(1), Batch: batch),
            "ops@host", "web1", new HybridTimestamp(1, 0, "web1"), targets ?? ["web1", "web2", "web3"], null);

    private static readonly Dictionary<string, TaskResult> NoResults = new();
    private static readonly HashSet<string> All = ["web1", "web2", "web3", "web4"];

    private static TaskDecision Decide(TaskRecord task, bool enabled = true, TrustList? trust = null, bool known = false,
        IReadOnlyDictionary<string, TaskResult>? results = null, IReadOnlySet<string>? members = null) =>
        new TaskDecisions(Web2, enabled, () => trust ?? TrustList.Empty).Decide(task, known, Now, results ?? NoResults, members ?? All);

    [Fact]
    public void A_task_for_this_node_runs_and_one_for_others_or_already_known_is_ignored()
    {
        Assert.IsType<TaskDecision.Run>(Decide(Task()));
        Assert.IsType<TaskDecision.Ignore>(Decide(Task("{roles: [db]}")));
        Assert.IsType<TaskDecision.Ignore>(Decide(Task(), known: true));
        Assert.IsType<TaskDecision.Ignore>(Decide(Task("{roles: [")));
    }

    [Fact]
    public void A_task_that_may_not_run_here_is_settled_with_the_reason()
    {
        Assert.Equal(TaskStates.Cancelled, Assert.IsType<TaskDecision.Settle>(Decide(Task() with { Cancelled = true, CancelledBy = "ops" })).State);
        Assert.Equal(TaskStates.Expired, Assert.IsType<TaskDecision.Settle>(Decide(Task(issued: Now.AddHours(-1)))).State);
        var refused = Assert.IsType<TaskDecision.Settle>(Decide(Task(), enabled: false));
        Assert.Equal((TaskStates.Refused, "tasks are disabled on this node (mesh.tasks.enabled)"), (refused.State, refused.Reason));
        using var key = SigningKey.Generate();
        var rejected = Assert.IsType<TaskDecision.Settle>(Decide(Task(), trust: new TrustList([("ops", key.Public, TrustPermission.Tasks)])));
        Assert.Equal(TaskStates.Rejected, rejected.State);
        Assert.Contains("unsigned", rejected.Reason);
    }

    [Fact]
    public void In_batches_a_node_waits_until_every_node_of_the_earlier_batches_is_done_or_gone()
    {
        // Batches of 1 in name order: web1, then web2, then web3.
        var task = Task(batch: 1);
        Assert.IsType<TaskDecision.Wait>(Decide(task));
        Assert.IsType<TaskDecision.Wait>(Decide(task, results: new Dictionary<string, TaskResult> { ["web1"] = Result("web1", TaskStates.Running) }));
        Assert.IsType<TaskDecision.Run>(Decide(task, results: new Dictionary<string, TaskResult> { ["web1"] = Result("web1", TaskStates.Failed) }));
        Assert.IsType<TaskDecision.Run>(Decide(task, members: new HashSet<string> { "web2", "web3" }));

        // Batches of 2: web1 and web2 together; web3 after both.
        Assert.True(TaskDecisions.MayStart(Task(batch: 2), "web2", NoResults, All));
        Assert.False(TaskDecisions.MayStart(Task(batch: 2), "web3", new Dictionary<string, TaskResult> { ["web1"] = Result("web1", TaskStates.Ok) }, All));
        // A node the task did not list (it joined later) does not wait for an order it is not in.
        Assert.True(TaskDecisions.MayStart(Task(batch: 1), "web4", NoResults, All));
    }

    private static TaskResult Result(string node, string state) => new("t1", node, state, Now);
}
