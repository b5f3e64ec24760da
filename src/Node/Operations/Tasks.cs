using Akka.Cluster;
using Mesh.Node.Audit;
using Mesh.Node.Configuration;
using Mesh.Node.Membership;
using Mesh.Node.Replication;
using Mesh.Node.Tasks;
using Mesh.Protocol.Api;
using Mesh.Protocol.Tasks;
using Mesh.Protocol.Versioning;

namespace Mesh.Node.Operations;

/// <summary>
/// Tasks through the control API: post one (checked, signature and all, then recorded in the
/// replicated tasks for every targeted node's <see cref="TaskRunner"/> to pick up), list them
/// with where every node stands, cancel one, and fetch the output a node kept.
/// </summary>
public sealed class Tasks(NodeSettings settings, LiveSettings live, Cluster cluster, ReplicatedStore store, HybridClock clock, AuditLog audit, FleetRequest fleet, Facts.FleetView fleetView)
{
    private static readonly TimeSpan AskTimeout = TimeSpan.FromSeconds(5);

    /// <summary>Records a task after checking it whole: a bad field is an <see cref="ArgumentException"/> (400), a refused signature a <see cref="TaskDeniedException"/> (403).</summary>
    public async Task<TaskView> PostAsync(TaskRequest request)
    {
        var spec = request.Spec ?? throw new ArgumentException("the request has no task (spec)");
        var problems = spec.Problems(DateTimeOffset.UtcNow);
        if (problems.Count > 0) throw new ArgumentException($"the task is refused; nothing was recorded:\n  {string.Join("\n  ", problems)}");
        if (live.Current.Trust.TaskRefusal(request.Signature, spec.Statement()) is { } why) throw new TaskDeniedException(why);
        if (await store.TaskAsync(spec.Id) is not null) throw new ArgumentException($"a task with id {spec.Id} exists already; nothing was recorded");
        var author = string.IsNullOrWhiteSpace(request.Author) ? "unknown" : request.Author;
        var record = new TaskRecord(spec, author, settings.Name, clock.Now(), Members.Targeted(cluster, spec.ParsedTarget(), fleetView, withAttached: false), request.Signature);
        await store.PostTaskAsync(record);
        var signer = request.Signature is { } sig ? $"signed by {live.Current.Trust.NameOf(sig.KeyId) ?? "key " + sig.KeyId}" : "unsigned";
        audit.Write("task posted", "task", spec.Id, $"{author} ({signer})",
            $"{spec.Describe()} on {(spec.Target.Length == 0 ? "every node" : spec.Target)} ({record.Targets.Length} now)");
        return View(record, []);
    }

    /// <summary>Every task this node knows, newest first, with every node's state.</summary>
    public async Task<TaskView[]> ListAsync()
    {
        var tasks = await store.TasksAsync();
        var results = await store.TaskResultsAsync();
        return tasks.Values.OrderByDescending(t => t.Created).Select(t => View(t, results[t.Id])).ToArray();
    }

    public async Task<TaskView?> GetAsync(string id)
    {
        if (await store.TaskAsync(id) is not { } task) return null;
        return View(task, (await store.TaskResultsAsync())[id]);
    }

    /// <summary>
    /// Cancels a task: nodes that have not started it settle it <c>cancelled</c>, and a node
    /// running it kills it (<c>failed</c>, "cancelled while running"). Null when no such task.
    /// </summary>
    public async Task<TaskView?> CancelAsync(string id, string? by)
    {
        if (await store.TaskAsync(id) is null) return null;
        by = string.IsNullOrWhiteSpace(by) ? "unknown" : by;
        await store.CancelTaskAsync(id, by);
        audit.Write("task cancelled", "task", id, by, "");
        return await GetAsync(id);
    }

    /// <summary>The output node <paramref name="node"/> kept of a task; a silent node is a <see cref="SilentMembersException"/>.</summary>
    public async Task<TaskOutput> OutputAsync(string id, string node)
    {
        var answers = await fleet.AskAsync<TaskOutput>(fleet.Named(node), TaskRunner.Name, new TaskOutputQuery(id), AskTimeout);
        if (answers.Silent.Length > 0) throw new SilentMembersException(answers.Silent);
        return answers.Answers[0].Reply;
    }

    /// <summary>The results there are, plus <c>queued</c> (or, past its expiry, <c>expired</c>) for each node the task listed that has not answered.</summary>
    public static TaskView View(TaskRecord task, IEnumerable<TaskResult> results)
    {
        var answered = results.GroupBy(r => r.Node, StringComparer.Ordinal).Select(g => g.OrderByDescending(r => r.Time).First()).ToList();
        var now = DateTimeOffset.UtcNow;
        foreach (var node in task.Targets.Where(n => answered.All(r => r.Node != n)))
            answered.Add(now > task.Spec.Expires
                ? new TaskResult(task.Id, node, TaskStates.Expired, task.Spec.Expires, Reason: "no answer from this node before the task expired")
                : new TaskResult(task.Id, node, TaskStates.Queued, task.Created.Time));
        return new TaskView(task, answered.OrderBy(r => r.Node, StringComparer.Ordinal).ToArray());
    }
}
