using Mesh.Protocol.Manifests;
using Mesh.Protocol.Signing;
using Mesh.Protocol.Wire;


namespace Mesh.Protocol.Api;

// The control API's request and response bodies (JSON under /v1/).

/// <summary>
/// One manifest file of a push, as the user wrote it, with the files its <c>source</c> fields
/// name (path relative to the manifest → bytes, base64 in JSON).
/// </summary>
public sealed record ManifestFile(string File, string Text, Dictionary<string, byte[]>? Attachments = null);

/// <summary>
/// A push. <see cref="Parents"/> names, per manifest, the head version the pusher saw ("" for
/// a manifest it believes new): a push over a head that has moved on is refused unless
/// <see cref="Force"/> (compare-and-set), so nobody overwrites a change they never saw.
/// </summary>
/// <see cref="Signatures"/> holds, per manifest, the pusher's signature over its name and
/// canonical hash (<see cref="RevisionSignature.ContentStatement"/>).
/// <see cref="Ack"/>: what must hold the change before the node answers success (null: <see cref="AckLevel.Majority"/>).
public sealed record PushRequest(ManifestFile[] Manifests, string? Message, string? Author,
    Dictionary<string, string>? Parents = null, bool Force = false,
    Dictionary<string, RevisionSignature>? Signatures = null, RolloutFlags? Rollout = null, AckLevel? Ack = null);

/// <summary>
/// A deletion: a tombstone revision over <see cref="Parent"/>, the head the deleter saw (a
/// deletion of a head that moved on is refused unless forced), signed over that head.
/// </summary>
public sealed record DeleteRequest(string Parent, string? Message, string? Author, RevisionSignature? Signature = null, bool Force = false, AckLevel? Ack = null);

/// <summary>One accepted manifest: the revision that now heads it, and the nodes expected to apply it.</summary>
/// <see cref="Rollout"/>: the rollout that now takes the revision to its nodes, batch by batch; null: every node at once.
public sealed record PushedRevision(RevisionRecord Revision, bool Unchanged, string[] Targets, RolloutStatus? Rollout = null);

/// <summary>The revisions a change made; <see cref="Ack"/>: whether they are replicated as asked (null for an unchanged push or a local ack).</summary>
public sealed record PushResponse(PushedRevision[] Revisions, AckReport? Ack = null);

/// <summary>Any refused request: a summary and, for manifests, every error with its location.</summary>
public sealed record ApiError(string Error, ManifestError[]? Details = null);

/// <summary>A member of the mesh; <see cref="Key"/> is its public encryption key (base64 SubjectPublicKeyInfo), which secrets are sealed to.</summary>
/// <param name="Facts">the member's facts as the asked node knows them (<c>GET /v1/members?facts=true</c>); null when not asked for or not known yet</param>
/// <param name="Peer">an attached host (<see cref="Status"/> "attached", not a member): the core peer it is attached to; null for a member</param>
public sealed record MemberInfo(string Name, string Address, string Status, string[] Roles, Dictionary<string, string> Labels, bool Reachable, bool Self,
    string? Key = null, System.Text.Json.Nodes.JsonObject? Facts = null, string? Peer = null);

/// <summary>
/// <c>GET /v1/facts</c>: one member's facts as the asked node knows them (its own as gathered, the
/// others' as they published them), and the facts it failed to gather. <see cref="Known"/>: false
/// while the member's facts have not reached the asked node.
/// </summary>
public sealed record NodeFactsInfo(string Node, bool Known, System.Text.Json.Nodes.JsonObject? Facts, string[] Errors);

public sealed record ManifestSummary(RevisionRecord Revision, string[] Targets);

public sealed record ManifestDetail(RevisionRecord Revision, string Canonical);

/// <summary>Where one targeted node stands with the head revision of one manifest.</summary>
public sealed record NodeStatus(string Node, string Manifest, string State, ApplyReport? Report, RevisionRecord Head);

/// <summary>
/// <c>GET /v1/status</c>: the answering node, whether it is offline (no peer reachable: it
/// enforces its last known state and its view of the others is stale) and since when, where
/// every targeted node stands with every head, the writes that concurrent pushes lost, and the
/// revisions this node accepted while it could not replicate them (until a quorum holds them).
/// </summary>
public sealed record StatusReport(string Node, bool Offline, DateTimeOffset? OfflineSince, string? OfflineReason,
    NodeStatus[] Manifests, LostWrite[] LostWrites, UnreplicatedRevision[]? Unreplicated = null, SeedAnswer[]? Seeds = null, ClockSkew[]? ClockSkews = null);

/// <summary>
/// While a node has not joined: one node it tries to join through (<see cref="Address"/>), and
/// what that one answers: <c>member</c> (with its <see cref="Status"/>), <c>not a member</c>
/// (it is starting, or looking for a mesh itself), or <c>no answer</c>; <see cref="Since"/>
/// when that answer began.
/// </summary>
public sealed record SeedAnswer(string Address, string Answer, string? Status, DateTimeOffset Since);

/// <summary>
/// A member whose clock is more than <c>mesh.clock.max-skew</c> off the mesh's time, as the
/// answering node measured it: <see cref="AheadMs"/> ahead (negative: behind). <see cref="Self"/>:
/// the answering node's own clock, off the majority's. <see cref="Corrected"/>: that node stamps
/// its versions with the majority's time rather than its own clock.
/// </summary>
public sealed record ClockSkew(string Node, long AheadMs, bool Self, bool Corrected)
{
    /// <summary>"node web-3's clock is 300 s ahead of this node's": the line the node logs and <c>mesh status</c> prints.</summary>
    public string Describe()
    {
        var by = $"{Math.Abs(AheadMs) / 1000.0:0} s {(AheadMs > 0 ? "ahead of" : "behind")}";
        return Self
            ? $"this node's clock ({Node}) is {by} the mesh's (the majority of its members); it stamps its versions with the mesh's time"
            : $"node {Node}'s clock is {by} this node's{(Corrected ? "; it stamps its versions with the mesh's time" : "")}";
    }
}

/// <summary>
/// A revision that another push overwrote without having seen it (two pushes on the two sides
/// of a partition, or within one gossip round): it is kept in history but applied nowhere.
/// Reported until the manifest moves on from <see cref="Winner"/>, the revision that replaced it.
/// </summary>
public sealed record LostWrite(string Manifest, RevisionRecord Revision, RevisionRecord Winner);

/// <summary>
/// One retained revision of a manifest, with the nodes whose latest report is for it.
/// <see cref="Lost"/>: neither the head nor an ancestor of it, i.e. overwritten by a concurrent push.
/// </summary>
public sealed record HistoryEntry(RevisionRecord Revision, bool Head, string[] AppliedBy, bool Lost = false);

/// <summary>
/// <c>GET /v1/manifests/{name}/diff</c>: a unified diff from one retained revision's canonical
/// body to another's, both indented as <c>mesh get</c> shows them.
/// </summary>
public sealed record RevisionDiff(string Manifest, RevisionRecord From, RevisionRecord To, string Diff);

/// <summary>What every targeted node would do with one manifest: the dry run of a push.</summary>
public sealed record PlannedManifest(string Manifest, string Hash, string[] Targets, ApplyReport[] Plans, string[] Silent);

public sealed record PlanResponse(PlannedManifest[] Manifests);

/// <summary>One event of the live stream: a report, a new revision, or a membership change.</summary>
public sealed record MeshEvent(string Kind, ApplyReport? Report = null, RevisionRecord? Revision = null, MemberInfo? Member = null);
