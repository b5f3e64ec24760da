using Akka.Actor;
using Akka.Cluster;
using Akka.DistributedData;
using Mesh.Node.Replication;
using Mesh.Protocol.Manifests;
using Mesh.Protocol.Versioning;
using Mesh.Protocol.Wire;

namespace Mesh.Node.Tests.Replication;

/// <summary>
/// A change accepted without its quorum (exit 7) is provisional in the replicated index: it
/// replaces the head it was made over, but never an acknowledged revision it did not see,
/// whatever the wall times; confirmed later, it ranks by its version like any other. Played
/// on the index data itself, merged in every order, as DData merges replicas.
/// </summary>
public class ProvisionalRankTests
{
    private static readonly UniqueAddress A = new(new Address("akka.tcp", "mesh", "10.0.0.2", 4710), 11);
    private static readonly UniqueAddress B = new(new Address("akka.tcp", "mesh", "10.0.0.3", 4710), 22);
    private static readonly UniqueAddress C = new(new Address("akka.tcp", "mesh", "10.0.0.4", 4710), 33);

    private static RevisionRecord Rev(long wall, string origin, RevisionRecord? parent) =>
        new("web", new HybridTimestamp(wall, 0, origin), $"hash-{wall}", 10, "tester", origin, "", DateTimeOffset.UnixEpoch, "",
            TargetSpec.All, parent?.Version.ToString());

    private static RevisionRecord Provisional(long wall, string origin, RevisionRecord parent) =>
        Rev(wall, origin, parent) with { ProvisionalRank = Replicated.ProvisionalRankOver(parent) };

    private static LWWDictionary<string, RevisionRecord> Index(UniqueAddress by, params RevisionRecord[] writes) =>
        writes.Aggregate(LWWDictionary<string, RevisionRecord>.Empty, (d, r) => d.SetItem(by, r.Manifest, r, Replicated.RevisionClock));

    /// <summary>The head every order of merging the replicas agrees on (and it must be one).</summary>
    private static RevisionRecord Head(params LWWDictionary<string, RevisionRecord>[] replicas)
    {
        var heads = Permutations(replicas).Select(order => order.Aggregate((x, y) => x.Merge(y)).Entries["web"]).Distinct().ToArray();
        return Assert.Single(heads);
    }

    private static IEnumerable<T[]> Permutations<T>(T[] items) => items.Length <= 1
        ? [items]
        : items.SelectMany((item, i) => Permutations(items.Where((_, j) => j != i).ToArray()).Select(rest => rest.Prepend(item).ToArray()));

    [Fact]
    public void An_acknowledged_revision_wins_over_a_later_provisional_one_made_over_the_same_head()
    {
        var @base = Rev(100, "a", null);
        var acknowledged = Rev(200, "a", @base);
        var later = Provisional(900, "c", @base);

        Assert.Equal(acknowledged, Head(Index(A, @base, acknowledged), Index(C, @base, later), Index(B, @base)));
        // By version alone the later one would have won: the rank is what protects the acknowledged one.
        Assert.True(later.Version.CompareTo(acknowledged.Version) > 0);
    }

    [Fact]
    public void A_provisional_revision_nothing_contradicts_replaces_its_parent_everywhere_and_so_do_the_ones_made_over_it()
    {
        var @base = Rev(100, "a", null);
        var first = Provisional(200, "c", @base);
        var second = Rev(300, "c", first) with { ProvisionalRank = Replicated.ProvisionalRankOver(first) };

        Assert.Equal(first, Head(Index(A, @base), Index(C, @base, first)));
        Assert.Equal(second, Head(Index(A, @base), Index(B, @base), Index(C, @base, first, second)));
    }

    [Fact]
    public void Confirmed_it_ranks_by_its_version_above_its_parent_and_below_a_newer_acknowledged_revision()
    {
        var @base = Rev(100, "a", null);
        var provisional = Provisional(200, "c", @base);
        var confirmed = provisional with { ProvisionalRank = 0 };
        var newer = Rev(300, "a", confirmed);

        Assert.Equal(confirmed, Head(Index(C, @base, provisional, confirmed), Index(A, @base)));
        Assert.True(Replicated.RevisionClock(0, confirmed) > Replicated.RevisionClock(0, provisional));
        Assert.Equal(newer, Head(Index(C, @base, provisional, confirmed), Index(A, @base, confirmed, newer)));
    }

    [Fact]
    public void A_long_chain_of_provisional_revisions_never_climbs_above_the_next_acknowledged_version()
    {
        var @base = Rev(100, "a", null);
        var rank = Replicated.Rank(@base);
        var chain = @base;
        for (var i = 1; i <= 100; i++)
        {
            chain = Rev(100 + i, "c", chain) with { ProvisionalRank = Replicated.ProvisionalRankOver(chain) };
            rank = chain.ProvisionalRank;
        }
        var next = Rev(101, "a", @base);

        Assert.True(rank < Replicated.Rank(next), $"rank {rank} must stay below {Replicated.Rank(next)}");
        Assert.Equal(next, Head(Index(C, @base, chain), Index(A, @base, next)));
    }
}
