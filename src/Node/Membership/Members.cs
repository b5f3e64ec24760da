using Akka.Cluster;
using Mesh.Protocol.Api;
using Mesh.Protocol.Manifests;

namespace Mesh.Node.Membership;

/// <summary>The cluster's members as Mesh nodes: names, roles, labels, and which of them a target selects.</summary>
public static class Members
{
    public static MemberInfo Describe(Member member, Cluster cluster)
    {
        var identity = NodeRoles.Decode(member);
        var reachable = !cluster.State.Unreachable.Contains(member);
        return new MemberInfo(
            identity.Name,
            member.Address.ToString(),
            member.Status.ToString().ToLowerInvariant(),
            identity.Roles.Order(StringComparer.Ordinal).ToArray(),
            identity.Labels.ToDictionary(StringComparer.Ordinal),
            reachable,
            member.Address.Equals(cluster.SelfAddress),
            NodeRoles.KeyOf(member));
    }

    /// <summary>An attached host as <c>mesh members</c> lists it: status "attached", and the core peer it is attached to.</summary>
    public static MemberInfo Describe(Protocol.Wire.AttachedHostRecord host)
    {
        var identity = NodeRoles.Decode(host.Identity, host.Name);
        return new MemberInfo(identity.Name, host.Address, "attached", identity.Roles.Order(StringComparer.Ordinal).ToArray(),
            identity.Labels.ToDictionary(StringComparer.Ordinal), Reachable: true, Self: false, NodeRoles.KeyOf(host.Identity), Peer: host.Peer);
    }

    /// <summary>Members that take part in configuration: joined and not on their way out.</summary>
    public static IEnumerable<Member> Active(Cluster cluster) =>
        cluster.State.Members.Where(m => m.Status is MemberStatus.Up or MemberStatus.WeaklyUp or MemberStatus.Joining);

    /// <summary>This node is a member and sees more than half of the members reachable: a read or write at a majority can succeed.</summary>
    public static bool SeesMajority(Cluster cluster)
    {
        var state = cluster.State;
        var members = state.Members.Where(m => m.Status is MemberStatus.Up or MemberStatus.WeaklyUp or MemberStatus.Leaving).ToArray();
        return members.Any(m => m.UniqueAddress.Equals(cluster.SelfUniqueAddress))
            && members.Count(m => !state.Unreachable.Contains(m)) * 2 > members.Length;
    }

    /// <summary>
    /// Names of the active members a target selects, sorted; this node too, joined or not (offline,
    /// it still applies). A target with <c>facts:</c> is matched against the facts <paramref name="fleet"/>
    /// knows: this node's own, the others' as they published them; a member whose facts have not
    /// reached this node yet is not listed (it decides for itself, with its own facts, and applies).
    /// </summary>
    /// <param name="withAttached">false: members only (tasks run on members alone)</param>
    public static string[] Targeted(Cluster cluster, TargetSpec target, Facts.FleetView? fleet, bool withAttached = true) =>
        TargetedIdentities(cluster, target, fleet, withAttached).Select(n => n.Name).ToArray();

    /// <summary>The identities of the active members a target selects, by name; this node too, and the attached hosts (facts as in <see cref="Targeted"/>).</summary>
    public static NodeIdentity[] TargetedIdentities(Cluster cluster, TargetSpec target, Facts.FleetView? fleet, bool withAttached = true) =>
        Active(cluster).Select(NodeRoles.Decode).Append(NodeRoles.Decode(cluster.SelfRoles, cluster.SelfAddress.ToString()))
            .Concat(withAttached ? fleet?.AttachedIdentities ?? [] : [])
            .Where(n => target.Matches(n, target.ReadsFacts ? fleet?.FactsOf(n.Name) : null))
            // A node restarted under its old name shows twice until the cluster removes its old incarnation.
            .DistinctBy(n => n.Name).OrderBy(n => n.Name, StringComparer.Ordinal).ToArray();
}
