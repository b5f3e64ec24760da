using Mesh.Protocol.Manifests;
using Mesh.Protocol.Versioning;

namespace Mesh.Protocol.Wire;

/// <summary>
/// The small record of one revision of a manifest: what goes into the replicated index and
/// onto the change topic. Never the body: that moves peer to peer by <see cref="Hash"/>.
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
    string? Parent);
