using Akka.Actor;
using Mesh.Node.Observability;
using Mesh.Protocol.Wire;

namespace Mesh.Node.Content;

/// <summary>Serves chunks of this node's blobs to peers that pull them. One per node, at <see cref="Path"/>.</summary>
public sealed class ContentServer : ReceiveActor
{
    public const string Name = "content";
    public const string Path = "/user/" + Name;

    /// <summary>The largest chunk served, whatever is asked: safely below the 128 000-byte remoting frame.</summary>
    public const int MaxChunk = 120_000;

    public ContentServer(ContentStore store, int maxChunk, MeshMetrics metrics)
    {
        Receive<FetchChunk>(request =>
        {
            var chunk = store.Read(request.Hash, request.Offset, Math.Min(request.Length, maxChunk));
            metrics.Served(chunk?.Data.Length ?? 0);
            Sender.Tell(chunk is { } c
                ? new ContentChunk(request.Hash, request.Offset, c.Total, c.Data)
                : new ContentMissing(request.Hash));
        });
    }

    public static Props Props(ContentStore store, int maxChunk, MeshMetrics metrics) => Akka.Actor.Props.Create(() => new ContentServer(store, maxChunk, metrics));
}
