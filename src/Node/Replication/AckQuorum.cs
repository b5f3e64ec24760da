using Mesh.Protocol.Api;

namespace Mesh.Node.Replication;

/// <summary>
/// How many other members must hold a change before it is acknowledged, by DData's own rule:
/// a majority of the Up (and WeaklyUp) members, this node included, is <c>N / 2 + 1</c>; all is
/// <c>N</c>. With two members a majority is both; alone (a mesh of one) it is this node. And why,
/// before anything is sent, that quorum cannot be reached now.
/// </summary>
/// <param name="Members">the Up/WeaklyUp members this node counts, itself included</param>
/// <param name="Needed">the other members that must confirm</param>
/// <param name="Unreachable">why the quorum cannot be reached now; null when it may be</param>
public sealed record AckQuorum(AckLevel Level, int Members, int Needed, string? Unreachable)
{
    public static int Majority(int members) => members / 2 + 1;

    /// <param name="selfUp">this node is an Up (or WeaklyUp) member</param>
    /// <param name="offlineReason">this node's connectivity: why it is offline, or null</param>
    /// <param name="upMembers">Up/WeaklyUp members, this node included</param>
    /// <param name="reachableOthers">of those, the other members this node reaches now</param>
    public static AckQuorum Of(AckLevel level, bool selfUp, string? offlineReason, int upMembers, int reachableOthers)
    {
        if (level == AckLevel.Local) return new(level, upMembers, 0, null);
        if (!selfUp)
            return new(level, upMembers, 0, $"this node is not a member of the mesh (yet){(offlineReason is null ? "" : ": " + offlineReason)}");
        if (offlineReason is not null) return new(level, upMembers, 0, offlineReason);
        var members = Math.Max(1, upMembers);
        var needed = (level == AckLevel.All ? members : Majority(members)) - 1;
        return reachableOthers >= needed
            ? new(level, members, needed, null)
            : new(level, members, needed, $"only {reachableOthers} of the {members - 1} other member(s) reachable, {needed} needed for {Describe(level)}");
    }

    public static string Describe(AckLevel level) => level switch
    {
        AckLevel.All => "every member",
        AckLevel.Majority => "a majority",
        _ => "this node",
    };
}
