using Mesh.Protocol.Wire;

namespace Mesh.Protocol.Api;

// The control API's rollout bodies (JSON under /v1/rollouts).

/// <summary>A push's flags over the manifest's rollout policy (<c>--batch</c>, <c>--max-failures</c>, <c>--pause</c>); null: as the manifest says.</summary>
public sealed record RolloutFlags(string? Batch, string? MaxFailures, string? Pause)
{
    public bool Any => Batch is not null || MaxFailures is not null || Pause is not null;
}

/// <summary>
/// A rollout as any node derives it from the replicated state: <see cref="Phase"/> is running,
/// paused, waiting-for-resume, halted, aborted or completed; <see cref="Batch"/> the batch under
/// way or next (from 1), out of <see cref="Batches"/>.
/// </summary>
public sealed record RolloutStatus(
    string Manifest,
    string Version,
    string? Previous,
    string Phase,
    int Batch,
    int BatchCount,
    int Failures,
    int AllowedFailures,
    string Author,
    string Origin,
    DateTimeOffset Started,
    string Control,
    string Policy,
    RolloutBatchStatus[] Batches,
    string[] Skipped,
    DateTimeOffset? NextBatchAt)
{
    public bool Over => Phase is "completed" or "halted" or "aborted";
}

public sealed record RolloutBatchStatus(int Number, RolloutNodeStatus[] Nodes);

/// <summary>One node's place in a rollout: its step (waiting, draining, applying, checking, undraining, healthy, failed, skipped).</summary>
public sealed record RolloutNodeStatus(string Node, string Step, string? Reason, DateTimeOffset? Time, bool RolledBack);

/// <summary>What a pause, resume or abort did.</summary>
public sealed record RolloutControlResponse(string Manifest, string Version, string Control, RolloutStatus Status);
