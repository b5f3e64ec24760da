using Mesh.Protocol.Manifests;
using Mesh.Protocol.Signing;
using Mesh.Protocol.Versioning;

namespace Mesh.Protocol.Wire;

/// <summary>
/// The small record of one revision of a manifest: what goes into the replicated index and
/// onto the change topic. Never the body: that moves peer to peer by <see cref="Hash"/>.
/// <see cref="Signature"/> is the pusher's, over the manifest name and <see cref="Hash"/>;
/// a <see cref="Deleted"/> revision is a tombstone: it has no body and ends the manifest.
/// <see cref="RolledOut"/>: a rollout governs it (its record is in the rollout map), so a node
/// does not apply it before that record tells it to.
/// <see cref="ProvisionalRank"/>: 0 for a revision made with its ack quorum in reach; otherwise
/// (accepted by a node that is not a member, offline, or short of its quorum: exit 7) the rank
/// it holds in the replicated index until a quorum confirms it, just above the head it replaced
/// and below every acknowledged revision newer than that head (see <c>Replicated.RevisionClock</c>),
/// so that it can never overwrite an acknowledged change it did not see.
/// </summary>
public sealed record RevisionRecord(
    string Manifest,
    HybridTimestamp Version,
    string Hash,
    long Size,
    string Author,
    string Origin,
    string OriginAddress,
    DateTimeOffset Time,
    string Message,
    TargetSpec Target,
    string? Parent,
    RevisionSignature? Signature = null,
    bool Deleted = false,
    bool RolledOut = false,
    long ProvisionalRank = 0)
{
    public bool Provisional => ProvisionalRank != 0;

    /// <summary>What <see cref="Signature"/> must verify over.</summary>
    public byte[] SignedStatement() => Deleted
        ? RevisionSignature.DeletionStatement(Manifest, Parent ?? "")
        : RevisionSignature.ContentStatement(Manifest, Hash);

    /// <summary>The one way a new revision of a manifest's content is made (a push, a rollback, a dry run, a local apply).</summary>
    public static RevisionRecord Of(PreparedManifest prepared, HybridTimestamp version, RevisionOrigin origin, string? parent, RevisionSignature? signature = null) =>
        new(prepared.Name, version, prepared.Hash, prepared.Bytes.Length, origin.Author, origin.Node, origin.Address, DateTimeOffset.UtcNow,
            origin.Message, prepared.Manifest.Target, parent, signature);

    /// <summary>The revision that ends a manifest: no body, the target of the head it deletes, signed over that head.</summary>
    public static RevisionRecord Tombstone(RevisionRecord head, HybridTimestamp version, RevisionOrigin origin, RevisionSignature? signature) =>
        new(head.Manifest, version, "", 0, origin.Author, origin.Node, origin.Address, DateTimeOffset.UtcNow,
            origin.Message, head.Target, head.Version.ToString(), signature, Deleted: true);
}

/// <summary>Who made a change, through which node, and why: the same for every revision of one push.</summary>
public sealed record RevisionOrigin(string Author, string Node, string Address, string Message)
{
    /// <summary>A change as a request describes it: a blank author is "unknown", a missing message empty.</summary>
    public static RevisionOrigin Of(string? author, string node, string address, string? message) =>
        new(string.IsNullOrWhiteSpace(author) ? "unknown" : author, node, address, message ?? "");
}
