using Akka.Actor;
using Mesh.Node.Membership;
using static Mesh.Node.Membership.NameClaims;

namespace Mesh.Node.Tests.Cluster;

/// <summary>Which of two members claiming one name keeps it: the same answer on every node.</summary>
public class NameClaimsTests
{
    private static Address At(int port) => new("akka.tcp", "mesh", "127.0.0.1", port);

    [Fact]
    public void The_younger_of_two_members_at_different_addresses_is_refused_in_favour_of_the_older()
    {
        var old = new Claim(At(4710), "web1", 0, true);
        var young = new Claim(At(4720), "web1", 1, true);

        Assert.Equal(old, HolderOf(young, [old, young]));
        Assert.Null(HolderOf(old, [old, young]));
    }

    [Fact]
    public void A_new_incarnation_at_the_same_address_is_the_same_node_not_a_second_one()
    {
        var before = new Claim(At(4710), "web1", 0, true);
        var restarted = new Claim(At(4710), "web1", 1, true);

        Assert.Null(HolderOf(restarted, [before, restarted]));
        Assert.Null(HolderFor("web1", At(4710), [before]));
    }

    [Fact]
    public void An_unreachable_holder_does_not_keep_its_name_from_a_node_at_a_new_address()
    {
        var gone = new Claim(At(4710), "web1", 0, Reachable: false);
        var moved = new Claim(At(4720), "web1", 1, true);

        Assert.Null(HolderOf(moved, [gone, moved]));
        Assert.Null(HolderFor("web1", At(4720), [gone]));
    }

    [Fact]
    public void Other_names_do_not_count()
    {
        var other = new Claim(At(4710), "web2", 0, true);
        var claimant = new Claim(At(4720), "web1", 1, true);

        Assert.Null(HolderOf(claimant, [other, claimant]));
        Assert.Null(HolderFor("web1", At(4720), [other]));
        Assert.Equal(other, HolderFor("web2", At(4720), [other]));
    }
}
