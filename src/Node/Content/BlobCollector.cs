using System.Collections.Concurrent;
using Akka.Event;
using Mesh.Node.Audit;
using Mesh.Node.Replication;
using Mesh.Protocol.Manifests;

namespace Mesh.Node.Content;

/// <summary>
/// Deletes the blobs no retained revision references: bodies of revisions that fell out of
/// history, their file sources, dry-run bodies. What a revision still in history, a head, or
/// this node's last report names is kept (with the sources it names), so history,
/// <c>get --revision</c> and rollback keep working.
/// </summary>
public sealed class BlobCollector(string self, ReplicatedStore store, ContentStore content, AuditLog audit, ILoggingAdapter log)
{
    /// <summary>Blob → the source blobs its manifest names; bodies never change, so this is never stale.</summary>
    private readonly ConcurrentDictionary<string, string[]> _sourcesOf = new();

    public async Task<(int Blobs, long Bytes)> CollectAsync(TimeSpan grace)
    {
        var keep = new HashSet<string>(StringComparer.Ordinal);
        var revisions = (await store.AllHistoryAsync()).Concat((await store.IndexAsync()).Values).Where(r => !r.Deleted).Select(r => r.Hash);
        var reported = (await store.ReportsOfAsync(self)).Values.Select(r => r.Hash);
        foreach (var hash in revisions.Concat(reported).Where(ContentStore.IsHash))
        {
            keep.Add(hash);
            keep.UnionWith(_sourcesOf.GetOrAdd(hash, SourcesOf));
        }
        var (blobs, bytes) = content.Collect(keep, grace);
        if (blobs > 0)
        {
            log.Info("collected {0} unreferenced blob(s), {1} bytes", blobs, bytes);
            audit.Write("collected", "", "", self, $"{blobs} unreferenced blob(s), {bytes} bytes");
        }
        return (blobs, bytes);
    }

    private string[] SourcesOf(string hash)
    {
        if (content.Get(hash) is not { } body) return [];
        try
        {
            return CanonicalForm.FromBytes(body, hash).SourceHashes.ToArray();
        }
        catch (ManifestException)
        {
            return []; // a source blob, not a manifest
        }
    }
}
