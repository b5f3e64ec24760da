using Akka.Actor;
using Akka.Cluster;

namespace Mesh.Node.Membership;

/// <summary>
/// Whom to pull a revision's body from, in one order for every puller (apply, dry run, get,
/// rollback): the revision's origin first, since it surely has the body, then every other
/// member in random order, so a fleet fetching one body at once spreads over the nodes that
/// already hold it instead of all queueing at the origin.
/// </summary>
public static class Peers
{
    public static IReadOnlyList<Address> For(Cluster cluster, string originAddress)
    {
        var self = cluster.SelfAddress;
        var members = cluster.State.Members
            .Where(m => m.Status is not (MemberStatus.Down or MemberStatus.Removed) && !m.Address.Equals(self))
            .Select(m => m.Address)
            .OrderBy(_ => Random.Shared.Next())
            .ToList();
        var origin = members.FindIndex(a => a.ToString() == originAddress);
        if (origin > 0) (members[0], members[origin]) = (members[origin], members[0]);
        return members;
    }
}
