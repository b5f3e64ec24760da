using Akka.Actor;
using Akka.Cluster;
using Mesh.Node.Membership;
using Mesh.Node.Observability;
using Mesh.Protocol.Wire;

namespace Mesh.Node.Content;

/// <summary>
/// Serves chunks of this node's blobs to peers that pull them, and stores the blobs of a change
/// another node asks it to hold before that node acknowledges the change. One per node, at <see cref="Path"/>.
/// </summary>
public sealed class ContentServer : ReceiveActor
{
    public const string Name = "content";
    public const string Path = "/user/" + Name;

    /// <summary>The largest chunk served, whatever is asked: safely below the 128 000-byte remoting frame.</summary>
    public const int MaxChunk = 120_000;

    /// <param name="partialWait">how long a chunk of a blob this node is still pulling may wait for its bytes (below the askers' fetch timeout)</param>
    /// <param name="cluster">the member's cluster, whose members ask it to hold bodies; null on an attached host</param>
    public ContentServer(ContentStore store, int maxChunk, MeshMetrics metrics, ContentFetcher fetcher, string node, TimeSpan partialWait, Cluster? cluster)
    {
        Receive<FetchChunk>(request =>
        {
            var length = Math.Min(request.Length, maxChunk);
            if (Read(store, request.Hash, request.Offset, length) is { } chunk)
            {
                metrics.Served(chunk.Data.Length);
                Sender.Tell(chunk);
            }
            else if (!fetcher.IsPulling(request.Hash) && !request.Expected) Sender.Tell(new ContentMissing(request.Hash));
            else
                // Pulling it, or about to (a relay in a change's tree): the chunk once it is in, within
                // most of the asker's patience, or from the store if the pull ended meanwhile.
                PartialAsync(request.Hash, request.Offset, length).PipeTo(Sender);
        });
        // Members hold a push's body for each other; an attached host (no cluster) only serves what it has.
        if (cluster is not null) Receive<HoldContent>(request => HoldAsync(request, fetcher, cluster, node).PipeTo(Sender));

        async Task<object> PartialAsync(string hash, long offset, int length)
        {
            var clock = System.Diagnostics.Stopwatch.StartNew();
            // The asker was told this node gets the blob: its own HoldContent may arrive a moment after the asker's first chunk request.
            if (!await fetcher.StartedAsync(hash, partialWait)) return new ContentMissing(hash);
            var chunk = await fetcher.PartialChunkAsync(hash, offset, length, partialWait - clock.Elapsed) ?? Read(store, hash, offset, length);
            metrics.Served(chunk?.Data.Length ?? 0);
            return chunk ?? (object)new ContentMissing(hash);
        }
    }

    private static ContentChunk? Read(ContentStore store, string hash, long offset, int length) =>
        store.Read(hash, offset, length) is { } c ? new ContentChunk(hash, offset, c.Total, c.Data) : null;

    /// <summary>
    /// Pulls what this node lacks by the ordinary chunked fetch: from the member above it in the
    /// change's relay tree first, then the node whose change it is (it surely has it), then any other.
    /// </summary>
    private static async Task<object> HoldAsync(HoldContent request, ContentFetcher fetcher, Cluster cluster, string node)
    {
        try
        {
            if (request.Hashes.FirstOrDefault(h => !ContentStore.IsHash(h)) is { } bad)
                return new ContentNotHeld(request.Hashes, node, $"'{bad}' is not a content hash");
            var peers = Peers.For(cluster, request.Origin ?? request.From).Where(p => p.ToString() != request.From).ToList();
            if (request.Origin is { } origin && !peers.Any(p => p.ToString() == origin)) peers.Insert(0, Address.Parse(origin));
            peers.Insert(0, Address.Parse(request.From));
            // A source other than the origin is getting the blobs itself, as this node is.
            var relayed = request.Origin is { } o && o != request.From;
            foreach (var hash in request.Hashes) await fetcher.FetchAsync(hash, peers, expectFirst: relayed);
            return new ContentHeld(request.Hashes, node);
        }
        catch (Exception e)
        {
            return new ContentNotHeld(request.Hashes, node, e.Message);
        }
    }

    public static Props Props(ContentStore store, int maxChunk, MeshMetrics metrics, ContentFetcher fetcher, string node, TimeSpan partialWait, Cluster? cluster) =>
        Akka.Actor.Props.Create(() => new ContentServer(store, maxChunk, metrics, fetcher, node, partialWait, cluster));
}
