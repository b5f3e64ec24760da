using Mesh.Protocol.Manifests;
using Mesh.Protocol.Signing;
using Mesh.Protocol.Versioning;

namespace Mesh.Protocol.Wire;

/// <summary>
/// The small record of one revision of a manifest: what goes into the replicated index and
/// onto the change topic. Never the body: that moves peer to peer by <see cref="Hash"/>.
/// <see cref="Signature"/> is the pusher's, over the manifest name and <see cref="Hash"/>;
/// a <see cref="Deleted"/> revision is a tombstone: it has no body and ends the manifest.
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
    bool Deleted = false)
{
    /// <summary>What <see cref="Signature"/> must verify over.</summary>
    public byte[] SignedStatement() => Deleted
        ? RevisionSignature.DeletionStatement(Manifest, Parent ?? "")
        : RevisionSignature.ContentStatement(Manifest, Hash);
}
