using Mesh.Protocol.Signing;
using Mesh.Protocol.Tasks;

namespace Mesh.Protocol.Api;

// The control API's bodies for tasks (POST /v1/tasks, GET /v1/tasks, ...).

/// <summary>A task to post: what is asked, by whom, and the author's signature over <see cref="TaskSpec.Statement"/>.</summary>
public sealed record TaskRequest(TaskSpec Spec, string? Author, RevisionSignature? Signature = null);

/// <summary>
/// A task and where every node stands with it: one entry per node that answered, plus one
/// <c>queued</c> entry (or <c>expired</c>, once the task can no longer start) per node it
/// targeted when posted that has not answered yet.
/// </summary>
public sealed record TaskView(TaskRecord Task, TaskResult[] Nodes)
{
    /// <summary>Every node has a final state.</summary>
    public bool Done => Nodes.All(n => TaskStates.Final(n.State));
}
