using Mesh.Protocol.Manifests;
using Mesh.Protocol.Versioning;

namespace Mesh.Protocol.Wire;

/// <summary>
/// One rollout, as every node reads it from the replicated state: the revision it rolls out
/// (<see cref="Version"/>), the revision the nodes go back to (<see cref="Previous"/>, null for
/// a manifest that had none), the effective policy, and the targeted nodes frozen at push time
/// in their rollout order (canaries first). Nobody drives it: each node derives from this record
/// and the nodes' <see cref="RolloutStep"/>s what it must do (see RolloutPlan on the node).
/// <see cref="Control"/> and <see cref="Released"/> are the operator's writes (pause, resume,
/// abort), accepted by any node; <see cref="Updated"/> orders those writes (last writer wins).
/// </summary>
public sealed record RolloutRecord(
    string Manifest,
    HybridTimestamp Version,
    RevisionRecord? Previous,
    RolloutPolicy Policy,
    string[] Nodes,
    string Author,
    string Origin,
    DateTimeOffset Started,
    RolloutControl Control,
    int Released,
    HybridTimestamp Updated,
    DateTimeOffset ControlTime);

/// <summary>The operator's word on a rollout: go on, hold (no new batch starts), or stop for good.</summary>
[System.Text.Json.Serialization.JsonConverter(typeof(Api.SnakeCaseEnum<RolloutControl>))]
public enum RolloutControl { Run, Pause, Abort }

/// <summary>
/// Where one node is in one rollout: written by that node only, under "manifest/node" in a
/// sharded map, and announced on the rollout topic. <see cref="Time"/> is the node's clock when
/// it reached the step; <see cref="Reason"/> says why a step failed.
/// </summary>
public sealed record RolloutStep(
    string Manifest,
    HybridTimestamp Version,
    string Node,
    RolloutStage Stage,
    string? Reason,
    DateTimeOffset Time,
    bool RolledBack = false)
{
    /// <summary>The node is done with the rollout, one way or the other.</summary>
    public bool Finished => Stage is RolloutStage.Healthy or RolloutStage.Failed;
}

/// <summary>A node's steps around the apply, in order, and the two ends.</summary>
[System.Text.Json.Serialization.JsonConverter(typeof(Api.SnakeCaseEnum<RolloutStage>))]
public enum RolloutStage { Draining, Applying, Checking, Undraining, Healthy, Failed }
