using Akka.Actor;
using Mesh.Node.Membership;

namespace Mesh.Node.Tests.Cluster;

/// <summary>A node corrects its clock only when a majority of the members agree it is off, and says which clocks are.</summary>
public class ClockOffsetsTests
{
    private const long MaxSkew = 30_000;
    private const long FiveMinutes = 300_000;

    private static Address At(int port) => new("akka.tcp", "mesh", "127.0.0.1", port);

    [Fact]
    public void A_node_whose_peers_agree_it_is_minutes_ahead_takes_their_time()
    {
        Assert.Equal(-FiveMinutes, ClockOffsets.CorrectionFor([-FiveMinutes, -FiveMinutes], MaxSkew));
        Assert.Equal(-FiveMinutes + 5_000, ClockOffsets.CorrectionFor([-FiveMinutes - 1_000, -FiveMinutes - 2_000, -FiveMinutes + 5_000, 10], MaxSkew));
    }

    [Fact]
    public void A_node_behind_the_majority_moves_forward_to_it()
    {
        Assert.Equal(FiveMinutes, ClockOffsets.CorrectionFor([FiveMinutes, FiveMinutes], MaxSkew));
    }

    [Fact]
    public void A_node_with_the_majority_keeps_its_own_clock_whatever_one_peer_says()
    {
        Assert.Equal(0, ClockOffsets.CorrectionFor([FiveMinutes, 200], MaxSkew));
        Assert.Equal(0, ClockOffsets.CorrectionFor([-FiveMinutes, 200], MaxSkew));
    }

    [Fact]
    public void Skew_within_the_bound_is_left_alone()
    {
        Assert.Equal(0, ClockOffsets.CorrectionFor([MaxSkew - 1, MaxSkew - 1], MaxSkew));
    }

    [Fact]
    public void Without_a_majority_nobody_corrects()
    {
        // Two members, or an even split: no side is the majority.
        Assert.Equal(0, ClockOffsets.CorrectionFor([FiveMinutes], MaxSkew));
        Assert.Equal(0, ClockOffsets.CorrectionFor([-FiveMinutes], MaxSkew));
        Assert.Equal(0, ClockOffsets.CorrectionFor([0, FiveMinutes, FiveMinutes], MaxSkew));
        Assert.Equal(0, ClockOffsets.CorrectionFor([-FiveMinutes, -FiveMinutes, 0], MaxSkew));
        // Alone, a node has nobody to compare with.
        Assert.Equal(0, ClockOffsets.CorrectionFor([], MaxSkew));
    }

    [Fact]
    public void The_reading_over_the_fastest_round_trip_counts()
    {
        var wall = 1_000_000L;
        var offsets = new ClockOffsets("self", TimeSpan.FromMilliseconds(MaxSkew), () => wall);

        offsets.Observe(At(1), "ahead", FiveMinutes + 4_000, roundTripMs: 8_000, corrected: false);
        offsets.Observe(At(1), "ahead", FiveMinutes, roundTripMs: 2, corrected: false);
        offsets.Observe(At(1), "ahead", FiveMinutes - 3_000, roundTripMs: 6_000, corrected: false);

        Assert.Equal(FiveMinutes, Assert.Single(offsets.Skews()).AheadMs);
    }

    [Fact]
    public void A_node_names_the_clocks_that_are_off_and_its_own_while_it_corrects_it()
    {
        var wall = 1_000_000L;
        var normal = new ClockOffsets("b", TimeSpan.FromMilliseconds(MaxSkew), () => wall);
        normal.Observe(At(1), "a", FiveMinutes, 2, corrected: true);
        normal.Observe(At(3), "c", 100, 2, corrected: false);

        var seen = Assert.Single(normal.Skews());
        Assert.Equal(("a", FiveMinutes, false), (seen.Node, seen.AheadMs, seen.Self));
        Assert.Equal("node a's clock is 300 s ahead of this node's; it stamps its versions with the mesh's time", seen.Describe());
        Assert.Equal(wall, normal.Now());

        var ahead = new ClockOffsets("a", TimeSpan.FromMilliseconds(MaxSkew), () => wall);
        ahead.Observe(At(2), "b", -FiveMinutes, 2, corrected: false);
        ahead.Observe(At(3), "c", -FiveMinutes, 2, corrected: false);

        var own = Assert.Single(ahead.Skews());
        Assert.Equal(("a", FiveMinutes, true), (own.Node, own.AheadMs, own.Self));
        Assert.Equal(wall - FiveMinutes, ahead.Now());
        Assert.Equal(wall, ahead.RawNow());

        // The others gone, nobody says it is off any more.
        ahead.Forget(At(2));
        ahead.Forget(At(3));
        Assert.Empty(ahead.Skews());
        Assert.Equal(wall, ahead.Now());
    }
}
