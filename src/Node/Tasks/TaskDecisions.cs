using Mesh.Protocol.Manifests;
using Mesh.Protocol.Signing;
using Mesh.Protocol.Tasks;

namespace Mesh.Node.Tasks;

/// <summary>What this node does with a task it sees, now.</summary>
public abstract record TaskDecision
{
    /// <summary>Not for this node, or already started or settled here.</summary>
    public sealed record Ignore : TaskDecision;
    /// <summary>Its turn has not come (<c>--batch</c>): look again when results or members change.</summary>
    public sealed record Wait : TaskDecision;
    /// <summary>Settle it without running it, with this state and reason.</summary>
    public sealed record Settle(string State, string Reason) : TaskDecision;
    public sealed record Run : TaskDecision;
}

/// <summary>
/// The runner's decisions, without an actor or a disk (as <c>EnforcementQueue</c> is the
/// converger's): whether this node runs a task now, waits, or answers without running it.
/// In order: a task for another node, or one this node's journal knows, is ignored; then a
/// cancelled one is settled <c>cancelled</c>, an expired one <c>expired</c>, any on a node
/// with tasks disabled <c>refused</c>, one the trust list refuses <c>rejected</c>; then the
/// batch rule may make it wait; else it runs.
/// </summary>
/// <param name="facts">this node's facts as they are now, for targets that read facts (none: such a target selects nothing)</param>
public sealed class TaskDecisions(NodeIdentity self, bool enabled, Func<TrustList> trust, Func<System.Text.Json.Nodes.JsonObject?>? facts = null)
{
    public TaskDecision Decide(TaskRecord task, bool known, DateTimeOffset now, IReadOnlyDictionary<string, TaskResult> results, IReadOnlySet<string> members)
    {
        if (known || !Targets(task)) return new TaskDecision.Ignore();
        if (task.Cancelled) return new TaskDecision.Settle(TaskStates.Cancelled, $"cancelled by {task.CancelledBy ?? "someone"} before it started here");
        if (now > task.Spec.Expires)
            return new TaskDecision.Settle(TaskStates.Expired, $"expired at {task.Spec.Expires:O}, before this node could start it");
        if (!enabled) return new TaskDecision.Settle(TaskStates.Refused, "tasks are disabled on this node (mesh.tasks.enabled)");
        if (trust().TaskRefusal(task.Signature, task.Spec.Statement()) is { } why) return new TaskDecision.Settle(TaskStates.Rejected, why);
        return MayStart(task, self.Name, results, members) ? new TaskDecision.Run() : new TaskDecision.Wait();
    }

    /// <summary>The answer for each target text seen that reads no facts: this node's identity is fixed, and the runner asks on every change.</summary>
    private readonly Dictionary<string, bool> _targeted = new(StringComparer.Ordinal);

    /// <summary>The task's target selects this node; a target this node cannot parse selects nothing.</summary>
    public bool Targets(TaskRecord task)
    {
        if (_targeted.TryGetValue(task.Spec.Target, out var known)) return known;
        TargetSpec target;
        try
        {
            target = task.Spec.ParsedTarget();
        }
        catch (ManifestException)
        {
            return _targeted[task.Spec.Target] = false;
        }
        // Facts change while the node runs: asked afresh each time, never remembered.
        if (target.ReadsFacts) return target.Matches(self, facts?.Invoke());
        var selects = target.Matches(self);
        if (_targeted.Count >= 1000) _targeted.Clear();
        return _targeted[task.Spec.Target] = selects;
    }

    /// <summary>
    /// The batch rule (<c>--batch N</c>), decided by each node alone: the nodes the task
    /// targeted when it was posted, in name order, form batches of N; a node of batch k starts
    /// once every node of the earlier batches has a final result or is no longer a member (the
    /// cluster removed it: it left, or it was down long enough to be downed; it runs the task
    /// whenever it comes back, outside the order). An unreachable member keeps its turn. A node
    /// the task did not list (it joined later) starts at once. Without a batch, every node
    /// starts at once.
    /// </summary>
    public static bool MayStart(TaskRecord task, string node, IReadOnlyDictionary<string, TaskResult> results, IReadOnlySet<string> members)
    {
        if (task.Spec.Batch <= 0) return true;
        var order = task.Targets.Order(StringComparer.Ordinal).ToArray();
        var at = Array.IndexOf(order, node);
        if (at < 0) return true;
        var before = order.Take(at / task.Spec.Batch * task.Spec.Batch);
        return before.All(n => (results.TryGetValue(n, out var r) && TaskStates.Final(r.State)) || !members.Contains(n));
    }
}
