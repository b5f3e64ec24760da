using Akka.Cluster;
using Mesh.Node.Membership;
using Mesh.Protocol.Manifests;
using Mesh.Protocol.Wire;

namespace Mesh.Node.Content;

/// <summary>
/// Brings a revision to this node: its canonical body pulled by hash (<see cref="Peers"/> order),
/// read back into a manifest and validated again, and every file source it names pulled too,
/// all before anything touches the host. The converger (apply), the planner (dry run) and the
/// queries (get, rollback) load revisions here and nowhere else.
/// </summary>
/// <param name="peers">the peers to pull a revision's body and sources from, in the order to ask them</param>
/// <param name="expectFirst">the first peer is pulling each new body itself (an attached host's peer or relay): it is asked to wait for its pull</param>
public sealed class RevisionLoader(ContentFetcher fetcher, Func<RevisionRecord, IReadOnlyList<Akka.Actor.Address>> peers, bool expectFirst = false)
{
    /// <summary>A member's loader: the origin first, then the other members (<see cref="Peers.For"/>).</summary>
    public RevisionLoader(ContentFetcher fetcher, Cluster cluster) : this(fetcher, revision => Peers.For(cluster, revision.OriginAddress), expectFirst: false)
    {
    }

    /// <summary>The revision's canonical bytes, from this node's store or a peer's.</summary>
    /// <exception cref="BlobUnavailableException">no peer could provide it.</exception>
    public Task<byte[]> BodyAsync(RevisionRecord revision, CancellationToken cancel = default) =>
        fetcher.FetchAsync(revision.Hash, peers(revision), cancel, expectFirst);

    /// <summary>The revision's manifest, with its sources in this node's store.</summary>
    /// <param name="source">How errors name the manifest (e.g. <c>web@1795757090314.0@b</c>).</param>
    /// <exception cref="BlobUnavailableException">the body or a source could not be fetched (worth retrying).</exception>
    /// <exception cref="ManifestException">the body is not a valid manifest (retrying will not help).</exception>
    public async Task<Manifest> LoadAsync(RevisionRecord revision, string source, CancellationToken cancel = default)
    {
        var from = peers(revision);
        var body = await fetcher.FetchAsync(revision.Hash, from, cancel, expectFirst);
        var manifest = CanonicalForm.FromBytes(body, source);
        foreach (var hash in manifest.SourceHashes) await fetcher.FetchAsync(hash, from, cancel, expectFirst);
        return manifest;
    }
}
