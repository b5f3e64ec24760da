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

    public ContentServer(ContentStore store, int maxChunk, MeshMetrics metrics, ContentFetcher fetcher, string node)
    {
        Receive<FetchChunk>(request =>
        {
            var chunk = store.Read(request.Hash, request.Offset, Math.Min(request.Length, maxChunk));
            metrics.Served(chunk?.Data.Length ?? 0);
            Sender.Tell(chunk is { } c
                ? new ContentChunk(request.Hash, request.Offset, c.Total, c.Data)
                : new ContentMissing(request.Hash));
        });
        var cluster = Cluster.Get(Context.System);
        Receive<HoldContent>(request => HoldAsync(request, fetcher, cluster, node).PipeTo(Sender));
    }

    /// <summary>Pulls what this node lacks by the ordinary chunked fetch, the asking node first (it surely has it).</summary>
    private static async Task<object> HoldAsync(HoldContent request, ContentFetcher fetcher, Cluster cluster, string node)
    {
        try
        {
            if (request.Hashes.FirstOrDefault(h => !ContentStore.IsHash(h)) is { } bad)
                return new ContentNotHeld(request.Hashes, node, $"'{bad}' is not a content hash");
            var peers = Peers.For(cluster, request.From);
            if (!peers.Any(p => p.ToString() == request.From)) peers = [Address.Parse(request.From), .. peers];
            foreach (var hash in request.Hashes) await fetcher.FetchAsync(hash, peers);
            return new ContentHeld(request.Hashes, node);
        }
        catch (Exception e)
        {
            return new ContentNotHeld(request.Hashes, node, e.Message);
        }
    }

    public static Props Props(ContentStore store, int maxChunk, MeshMetrics metrics, ContentFetcher fetcher, string node) =>
        Akka.Actor.Props.Create(() => new ContentServer(store, maxChunk, metrics, fetcher, node));
}
