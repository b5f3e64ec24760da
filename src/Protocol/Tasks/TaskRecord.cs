using Mesh.Protocol.Signing;
using Mesh.Protocol.Versioning;

namespace Mesh.Protocol.Tasks;

/// <summary>
/// A task as the replicated state holds it: what was asked (<see cref="Spec"/>, signed by
/// <see cref="Signature"/>), by whom (<see cref="Author"/>, as the CLI reported it), through
/// which node (<see cref="Origin"/>) and when (<see cref="Created"/>, that node's hybrid clock),
/// the members its target selected when it was posted (<see cref="Targets"/>: whom a waiting
/// CLI expects; a node decides for itself whether it is targeted), and whether it was cancelled.
/// </summary>
public sealed record TaskRecord(
    TaskSpec Spec,
    string Author,
    string Origin,
    HybridTimestamp Created,
    string[] Targets,
    RevisionSignature? Signature,
    bool Cancelled = false,
    string? CancelledBy = null)
{
    public string Id => Spec.Id;
}

/// <summary>
/// One node's answer to one task, written by that node alone: its state, and once it ran, the
/// exit code, the duration and the first <see cref="OutputCap"/> bytes of standard output and of
/// standard error (<see cref="Truncated"/> when either was longer; the node keeps more, see
/// <c>mesh task get ID --node N</c>). <see cref="Reason"/> says why a task failed, was refused,
/// rejected or cancelled.
/// </summary>
public sealed record TaskResult(
    string TaskId,
    string Node,
    string State,
    DateTimeOffset Time,
    int? ExitCode = null,
    TimeSpan? Duration = null,
    string? Stdout = null,
    string? Stderr = null,
    bool Truncated = false,
    string? Reason = null,
    DateTimeOffset? Started = null)
{
    /// <summary>Bytes of each stream a replicated result carries: results travel whole in the cluster's gossip.</summary>
    public const int OutputCap = 1024;
}

/// <summary>The states of one task on one node.</summary>
public static class TaskStates
{
    /// <summary>Targeted, no answer yet (never written by a node: what a view shows for silence).</summary>
    public const string Queued = "queued";
    public const string Running = "running";
    public const string Ok = "ok";
    public const string Failed = "failed";
    /// <summary>The node learnt of the task only after it expired: not run.</summary>
    public const string Expired = "expired";
    /// <summary>Not signed by a key this node trusts for tasks: not run.</summary>
    public const string Rejected = "rejected";
    /// <summary>Tasks are disabled on this node (<c>mesh.tasks.enabled</c>): not run.</summary>
    public const string Refused = "refused";
    /// <summary>Cancelled before this node started it: not run.</summary>
    public const string Cancelled = "cancelled";

    /// <summary>True for the states a node never leaves.</summary>
    public static bool Final(string state) => state is not (Queued or Running);
}

/// <summary>Asks one node for the output it kept of a task (<c>mesh task get ID --node N</c>).</summary>
public sealed record TaskOutputQuery(string TaskId);

/// <summary>
/// A node's kept output of a task: up to <c>mesh.tasks.output-cap</c> bytes of each stream,
/// secrets redacted. <see cref="Found"/> false: the node never ran it, or has since removed it.
/// </summary>
public sealed record TaskOutput(string TaskId, string Node, bool Found, string Stdout = "", string Stderr = "", TaskResult? Result = null);
