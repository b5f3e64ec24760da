using Mesh.Protocol.Wire;

namespace Mesh.Protocol.Versioning;

/// <summary>
/// Tells, from a manifest's retained history and its head, which revisions were lost: neither
/// the head nor one of its ancestors through <see cref="RevisionRecord.Parent"/>. A push names
/// the head it replaces as its parent (a forced push and a rollback too), so a revision the
/// head descends from was seen by whoever pushed after it; one it does not descend from was
/// overwritten by a concurrent push that never saw it: two pushes on the two sides of a
/// partition, or through two nodes within one gossip round.
/// </summary>
public static class Lineage
{
    /// <summary>A lost revision and the one that overwrote it: the oldest ancestor of the head (or the head) not older than it.</summary>
    public sealed record Loss(RevisionRecord Lost, RevisionRecord Winner);

    /// <summary>
    /// The lost revisions among <paramref name="history"/> (records of other manifests are
    /// ignored), newest first. Where the parent chain leaves the retained history (older
    /// revisions were dropped), a revision older than that break cannot be told apart from an
    /// ancestor and is not called lost.
    /// </summary>
    public static IReadOnlyList<Loss> LostRevisions(IEnumerable<RevisionRecord> history, RevisionRecord head)
    {
        var retained = new Dictionary<string, RevisionRecord>(StringComparer.Ordinal);
        foreach (var r in history.Where(r => r.Manifest == head.Manifest)) retained[r.Version.ToString()] = r;

        // The head's ancestry, newest first, as far as the retained history reaches.
        var chain = new List<RevisionRecord>();
        var onChain = new HashSet<string>(StringComparer.Ordinal);
        HybridTimestamp? brokenAt = null;
        var complete = false;
        for (var current = head; onChain.Add(current.Version.ToString());)
        {
            chain.Add(current);
            if (string.IsNullOrEmpty(current.Parent))
            {
                complete = true;
                break;
            }
            if (retained.TryGetValue(current.Parent, out var parent))
            {
                current = parent;
                continue;
            }
            // An unreadable parent leaves nothing decidable below it.
            if (HybridTimestamp.TryParse(current.Parent, out var missing)) brokenAt = missing;
            break;
        }

        var losses = new List<Loss>();
        foreach (var revision in retained.Values.Where(r => !onChain.Contains(r.Version.ToString())).OrderByDescending(r => r.Version))
        {
            if (!complete && (brokenAt is null || revision.Version.CompareTo(brokenAt) <= 0)) continue;
            // Compared by wall time and counter only: that is what the replicated index orders by
            // (a tie on both is broken there by the writer's incarnation, not by node name).
            var winner = chain.LastOrDefault(c => c.Version.Packed >= revision.Version.Packed) ?? head;
            losses.Add(new Loss(revision, winner));
        }
        return losses;
    }
}
