using Mesh.Protocol.Manifests;
using Mesh.Protocol.Versioning;
using Mesh.Protocol.Wire;

namespace Mesh.Protocol.Tests;

/// <summary>A revision the head does not descend from was lost to a concurrent push; one it descends from was seen.</summary>
public class LineageTests
{
    private static RevisionRecord Rev(long wall, string node, RevisionRecord? parent, string manifest = "web", int counter = 0) =>
        new(manifest, new HybridTimestamp(wall, counter, node), $"hash-{wall}-{node}", 10, "tester", node, $"akka.tcp://mesh@{node}:4710",
            DateTimeOffset.FromUnixTimeMilliseconds(wall), $"pushed at {wall} via {node}", TargetSpec.All, parent?.Version.ToString());

    private static string[] Lost(IEnumerable<RevisionRecord> history, RevisionRecord head) =>
        Lineage.LostRevisions(history, head).Select(l => l.Lost.Version.ToString()).ToArray();

    [Fact]
    public void A_straight_line_of_pushes_loses_nothing()
    {
        var v1 = Rev(100, "a", null);
        var v2 = Rev(200, "b", v1);
        var v3 = Rev(300, "a", v2);

        Assert.Empty(Lost([v1, v2, v3], v3));
    }

    [Fact]
    public void Concurrent_pushes_on_the_two_sides_of_a_partition_lose_the_older_one_to_the_newer()
    {
        var before = Rev(100, "a", null);
        var minority = Rev(200, "c", before);
        var majority = Rev(300, "a", before);

        var loss = Assert.Single(Lineage.LostRevisions([before, minority, majority], majority));

        Assert.Equal(minority, loss.Lost);
        Assert.Equal(majority, loss.Winner);
    }

    [Fact]
    public void Every_revision_of_the_losing_side_is_lost_and_names_the_revision_that_overwrote_it()
    {
        var before = Rev(100, "a", null);
        var a1 = Rev(200, "a", before);
        var b1 = Rev(250, "b", before);
        var a2 = Rev(300, "a", a1);
        var b2 = Rev(400, "b", b1);

        var losses = Lineage.LostRevisions([before, a1, b1, a2, b2], b2);

        Assert.Equal([a2, a1], losses.Select(l => l.Lost));
        // a1 was overwritten by b1 (the first revision of the winning line above it), a2 only by b2.
        Assert.Equal([b2, b1], losses.Select(l => l.Winner));
    }

    [Fact]
    public void Rollbacks_and_forced_pushes_name_the_head_they_replace_so_nothing_they_replace_is_lost()
    {
        var good = Rev(100, "a", null);
        var bad = Rev(200, "b", good);
        var rollback = Rev(300, "c", bad);   // rollback to good: a new revision over bad
        var forced = Rev(400, "a", rollback); // --force over a head the pusher had not seen: still names it

        Assert.Empty(Lost([good, bad, rollback, forced], forced));
    }

    [Fact]
    public void A_lost_revision_stays_lost_after_the_manifest_moves_on()
    {
        var before = Rev(100, "a", null);
        var loser = Rev(200, "c", before);
        var winner = Rev(300, "a", before);
        var next = Rev(400, "b", winner);

        var loss = Assert.Single(Lineage.LostRevisions([before, loser, winner, next], next));

        Assert.Equal(loser, loss.Lost);
        Assert.Equal(winner, loss.Winner);
    }

    [Fact]
    public void Where_old_revisions_were_dropped_only_revisions_newer_than_the_break_can_be_lost()
    {
        var dropped = Rev(100, "a", null);
        var older = Rev(50, "z", null);       // older than the dropped ancestor: may be an ancestor of it
        var loser = Rev(200, "c", dropped);
        var winner = Rev(300, "a", dropped);

        Assert.Equal([loser.Version.ToString()], Lost([older, loser, winner], winner));
    }

    [Fact]
    public void A_tie_on_wall_time_and_counter_is_won_by_the_head_the_index_kept()
    {
        var before = Rev(100, "a", null);
        var kept = Rev(200, "a", before);
        var tied = Rev(200, "b", before); // orders above kept by node name, but the index kept the other

        var loss = Assert.Single(Lineage.LostRevisions([before, kept, tied], kept));

        Assert.Equal(tied, loss.Lost);
        Assert.Equal(kept, loss.Winner);
    }

    [Fact]
    public void Other_manifests_in_the_same_history_shard_are_ignored()
    {
        var web = Rev(100, "a", null);
        var db = Rev(150, "b", null, manifest: "db");

        Assert.Empty(Lost([web, db], web));
    }
}
