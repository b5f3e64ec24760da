using Akka.Actor;
using Akka.Cluster;
using Mesh.Node.Membership;

namespace Mesh.Node.Operations;

/// <summary>
/// Ask many members, gather the answers, decide on silence, in one place (as Akka's
/// <c>ReadWriteAggregator</c> and serf's query responses do). The one rule: every member is
/// asked at once; a member that does not answer within the timeout is <em>silent</em>, named
/// in <see cref="FleetAnswers{T}.Silent"/>; silence never fails the members that answered and
/// never becomes an answer of its own. What a route makes of silence is the route's to say.
/// </summary>
public sealed class FleetRequest(ActorSystem system, Cluster cluster)
{
    /// <summary>The active members a request goes to: those whose identity <paramref name="selects"/>.</summary>
    public Member[] Members(Func<Protocol.Manifests.NodeIdentity, bool> selects) =>
        Membership.Members.Active(cluster).Where(m => selects(NodeRoles.Decode(m))).ToArray();

    /// <summary>The active member named <paramref name="node"/>, or every active member when null; none by that name is a <see cref="NoSuchMemberException"/>.</summary>
    public Member[] Named(string? node)
    {
        var members = Members(n => node is null || n.Name == node);
        return members.Length > 0 ? members : throw new NoSuchMemberException($"no active member named '{node}'");
    }

    /// <summary>Sends <paramref name="message"/> to the actor <paramref name="actor"/> (a name under /user) of every member, and gathers what comes back within <paramref name="timeout"/>.</summary>
    public async Task<FleetAnswers<T>> AskAsync<T>(IEnumerable<Member> members, string actor, object message, TimeSpan timeout)
    {
        var replies = await Task.WhenAll(members.Select(async m =>
        {
            var name = NodeRoles.Decode(m).Name;
            try
            {
                return (Node: name, Reply: await system.ActorSelection(new RootActorPath(m.Address) / "user" / actor).Ask<T>(message, timeout));
            }
            catch (AskTimeoutException)
            {
                return (Node: name, Reply: default(T));
            }
        }));
        return new FleetAnswers<T>(
            replies.Where(r => r.Reply is not null).Select(r => new FleetAnswer<T>(r.Node, r.Reply!)).OrderBy(a => a.Node, StringComparer.Ordinal).ToArray(),
            replies.Where(r => r.Reply is null).Select(r => r.Node).Order(StringComparer.Ordinal).ToArray());
    }
}

public sealed record FleetAnswer<T>(string Node, T Reply);

/// <summary>The answers of the members that replied, and the names of those that stayed silent; both sorted by node name.</summary>
public sealed record FleetAnswers<T>(FleetAnswer<T>[] Answers, string[] Silent)
{
    public IEnumerable<string> Asked => Answers.Select(a => a.Node).Concat(Silent).Order(StringComparer.Ordinal);
}

/// <summary>Members did not answer a request that needs every one of them (HTTP 504).</summary>
public sealed class SilentMembersException(IReadOnlyList<string> silent)
    : Exception($"{string.Join(", ", silent)} did not answer in time; see mesh members for reachability");

/// <summary>A request named a node that is not an active member (HTTP 404).</summary>
public sealed class NoSuchMemberException(string message) : Exception(message);
