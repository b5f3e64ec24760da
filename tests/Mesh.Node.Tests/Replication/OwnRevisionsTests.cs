using Akka.Actor;
using Akka.Cluster;
using Akka.DistributedData;
using Mesh.Node.Replication;
using Mesh.Protocol.Manifests;
using Mesh.Protocol.Versioning;
using Mesh.Protocol.Wire;

namespace Mesh.Node.Tests.Replication;

/// <summary>
/// A node cut off from the mesh keeps what it took meanwhile, even when the others have
/// forgotten its old incarnation by the time it is back. What the replicator does to data
/// tagged with a pruned incarnation is played here on the data itself: a removed node's tags
/// are cleaned from whatever arrives after the survivors pruned it, then merged.
/// </summary>
public class OwnRevisionsTests
{
    private static readonly UniqueAddress Peer = new(new Address("akka.tcp", "mesh", "10.0.0.2", 4710), 11);
    private static readonly UniqueAddress CutOff = new(new Address("akka.tcp", "mesh", "10.0.0.4", 4710), 22);
    private static readonly UniqueAddress Restarted = new(new Address("akka.tcp", "mesh", "10.0.0.4", 4710), 33);

    private static RevisionRecord Rev(long wall, string origin, string manifest = "web") =>
        new(manifest, new HybridTimestamp(wall, 0, origin), $"hash-{wall}", 10, "tester", origin, "", DateTimeOffset.UnixEpoch, "", TargetSpec.All, null);

    private static LWWDictionary<string, RevisionRecord> With(LWWDictionary<string, RevisionRecord> d, UniqueAddress by, RevisionRecord r) =>
        d.SetItem(by, Replicated.HistoryEntry(r), r, Replicated.RevisionClock);

    /// <summary>Both sides knew <c>before</c>; each took one push while apart; the majority then pruned the cut-off incarnation.</summary>
    private static (LWWDictionary<string, RevisionRecord> Majority, LWWDictionary<string, RevisionRecord> CutOffSide) Partitioned()
    {
        var before = With(LWWDictionary<string, RevisionRecord>.Empty, Peer, Rev(100, "a"));
        return (With(before, Peer, Rev(300, "a")), With(before, CutOff, Rev(200, "c")));
    }

    [Fact]
    public void Without_reclaiming_a_write_taken_while_cut_off_vanishes_once_the_others_pruned_the_old_incarnation()
    {
        var (majority, cutOff) = Partitioned();

        var merged = majority.Merge(cutOff.PruningCleanup(CutOff));

        Assert.DoesNotContain("web@200.0@c", merged.Entries.Keys);
    }

    [Fact]
    public void Reclaimed_by_the_new_incarnation_a_write_taken_while_cut_off_survives_the_pruning_and_merges()
    {
        var (majority, cutOff) = Partitioned();

        var reclaimed = OwnRevisions.ReclaimHistory(cutOff, Restarted, "c", keep: 50);
        var merged = majority.Merge(reclaimed.PruningCleanup(CutOff));

        Assert.Equal(["web@100.0@a", "web@200.0@c", "web@300.0@a"], merged.Entries.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(merged.Entries, reclaimed.PruningCleanup(CutOff).Merge(majority).Entries);
    }

    [Fact]
    public void Only_the_nodes_own_revisions_within_retention_are_reclaimed()
    {
        var history = LWWDictionary<string, RevisionRecord>.Empty;
        foreach (var (wall, origin) in new[] { (100L, "c"), (200L, "a"), (300L, "c"), (400L, "c") }) history = With(history, CutOff, Rev(wall, origin));

        var reclaimed = OwnRevisions.ReclaimHistory(history, Restarted, "c", keep: 2);
        var merged = LWWDictionary<string, RevisionRecord>.Empty.Merge(reclaimed.PruningCleanup(CutOff));

        Assert.Equal(["web@300.0@c", "web@400.0@c"], merged.Entries.Keys.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void A_head_the_node_pushed_while_cut_off_survives_as_the_head_when_it_is_the_newest()
    {
        var before = LWWDictionary<string, RevisionRecord>.Empty.SetItem(Peer, "web", Rev(100, "a"), Replicated.RevisionClock);
        var majority = before.SetItem(Peer, "db", Rev(150, "a", "db"), Replicated.RevisionClock);
        var cutOff = before.SetItem(CutOff, "web", Rev(200, "c"), Replicated.RevisionClock)
            .SetItem(CutOff, "new", Rev(210, "c", "new"), Replicated.RevisionClock);

        var merged = majority.Merge(OwnRevisions.ReclaimHeads(cutOff, Restarted, "c").PruningCleanup(CutOff));

        Assert.Equal("200.0@c", merged.Entries["web"].Version.ToString());
        Assert.Equal("210.0@c", merged.Entries["new"].Version.ToString());
        Assert.Contains("db", merged.Entries.Keys);
    }
}
