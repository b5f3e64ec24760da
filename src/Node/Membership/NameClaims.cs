using Akka.Actor;
using Akka.Cluster;

namespace Mesh.Node.Membership;

/// <summary>
/// Which member keeps a node name when two claim it. A name is one node: every key of a
/// node's state (its reports, facts, task results) is named after it. Two members at
/// different addresses with one name: the older (Akka's age order: up-number, then address,
/// the same on every node) keeps it while it is reachable, and the younger is refused. A
/// member at the same address is a new incarnation of the same node (a restart), never a
/// second one; a holder that is unreachable (a host that moved to another address) does not
/// keep its name from the newcomer.
/// </summary>
public static class NameClaims
{
    /// <summary>
    /// A member as far as its name goes: where it is, its rank in age (0 the oldest), and
    /// whether this node reaches it.
    /// </summary>
    public sealed record Claim(Address Address, string Name, int Age, bool Reachable)
    {
        public bool IsOlderThan(Claim other) => Age < other.Age;
    }

    /// <summary>Members holding their name: joining or up, not on their way out.</summary>
    public static bool Holds(Member member) => member.Status is MemberStatus.Joining or MemberStatus.WeaklyUp or MemberStatus.Up;

    /// <summary>The claims of the members that hold their name, ranked by Akka's age order (up-number, then address).</summary>
    public static Dictionary<UniqueAddress, Claim> Of(IEnumerable<Member> members, Func<Member, bool> reachable) =>
        members.Where(Holds).OrderBy(m => m, Member.AgeOrdering)
            .Select((m, age) => (m, claim: new Claim(m.Address, NodeRoles.Decode(m).Name, age, reachable(m))))
            .ToDictionary(c => c.m.UniqueAddress, c => c.claim);

    /// <summary>The reachable member, older than <paramref name="claimant"/>, at another address, that holds its name; null when the name is its own.</summary>
    public static Claim? HolderOf(Claim claimant, IEnumerable<Claim> holders) =>
        holders.Where(h => h.Name == claimant.Name && !h.Address.Equals(claimant.Address) && h.Reachable && h.IsOlderThan(claimant))
            .OrderBy(h => h.Age).FirstOrDefault();

    /// <summary>The holder a node about to join at <paramref name="asker"/> under <paramref name="name"/> would meet: a reachable member at another address.</summary>
    public static Claim? HolderFor(string name, Address asker, IEnumerable<Claim> holders) =>
        holders.Where(h => h.Name == name && !h.Address.Equals(asker) && h.Reachable).OrderBy(h => h.Age).FirstOrDefault();
}
