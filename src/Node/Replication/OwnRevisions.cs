using Akka.Cluster;
using Akka.DistributedData;
using Mesh.Protocol.Wire;

namespace Mesh.Node.Replication;

/// <summary>
/// What a node writes again at start, before joining (<see cref="ReplicatedStore.Reclaim"/>):
/// its own revisions (the heads and retained history it was the origin of), once more in its
/// replica, under this incarnation.
///
/// Why: DData tags every entry with the incarnation that wrote it. When the cluster removes an
/// incarnation (a node downed on the minority side of a partition, or one that crashed), the
/// survivors, some minutes later, prune it: its tags are folded into theirs, and data still
/// tagged with it that arrives afterwards is discarded. A node that took pushes while cut off
/// and comes back after that would lose them, with no trace, although they are on its disk.
/// Tagged with the new incarnation, they merge like any fresh write: the higher version wins
/// the head, and every revision stays in history.
/// </summary>
public static class OwnRevisions
{
    /// <summary>The index shard with the heads <paramref name="node"/> pushed written again by <paramref name="self"/> (same record, same clock).</summary>
    internal static LWWDictionary<string, RevisionRecord> ReclaimHeads(LWWDictionary<string, RevisionRecord> heads, UniqueAddress self, string node)
    {
        foreach (var (name, head) in heads.Entries.Where(e => e.Value.Origin == node).ToArray())
            heads = heads.SetItem(self, name, head, Replicated.RevisionClock);
        return heads;
    }

    /// <summary>The history shard with the revisions <paramref name="node"/> pushed written again, as far as retention still keeps them.</summary>
    internal static LWWDictionary<string, RevisionRecord> ReclaimHistory(LWWDictionary<string, RevisionRecord> history, UniqueAddress self, string node, int keep)
    {
        // Only what retention still keeps: an entry another node already dropped would come back.
        var own = history.Entries
            .GroupBy(e => e.Value.Manifest)
            .SelectMany(g => g.OrderByDescending(e => e.Value.Version).Take(keep))
            .Where(e => e.Value.Origin == node)
            .ToArray();
        foreach (var (entry, revision) in own) history = history.SetItem(self, entry, revision, Replicated.RevisionClock);
        return history;
    }

    /// <summary>A key with nothing on disk holds nothing of ours: no update, so a new node creates no empty keys.</summary>
    internal static bool Stored(string durableDir, IKey key) => File.Exists(Path.Combine(durableDir, Uri.EscapeDataString(key.Id)));
}
