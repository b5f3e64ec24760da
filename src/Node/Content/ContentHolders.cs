using Akka.Actor;
using Mesh.Protocol.Wire;

namespace Mesh.Node.Content;

/// <summary>
/// "Ask many, gather answers, decide on silence" for a change's blobs: asks members to store
/// them (<see cref="HoldContent"/>, each peer pulling by chunks through its own fetcher) and
/// returns as soon as enough confirmed, or at the deadline with who did and why the others did not.
/// A member that stays silent until the deadline did not hold them.
/// <para>
/// Every member is asked at once, but not every member pulls from this node: they form a relay
/// tree of <paramref name="fanOut"/> members per node (this node at its root), each pulling first
/// from the member above it, which serves the chunks it has while it pulls the rest. This node
/// sends the body <paramref name="fanOut"/> times, not once per member, and a hundred members
/// pulling a large body at once is no thundering herd. A member whose source fails pulls from
/// this node, then from any other.
/// </para>
/// </summary>
/// <param name="fanOut">members per node of the relay tree (<c>mesh.content.hold-fan-out</c>); at least 1</param>
public sealed class ContentHolders(ActorSystem system, string selfAddress, int fanOut = ContentHolders.DefaultFanOut)
{
    public const int DefaultFanOut = 3;

    /// <summary>
    /// Where member <paramref name="index"/> of the asked members pulls from first: the node above
    /// it in a tree of <paramref name="fanOut"/> members per node, rooted at this node (null).
    /// </summary>
    public static int? SourceOf(int index, int fanOut) => index < fanOut ? null : index / fanOut - 1;

    public sealed record Outcome(string[] HeldBy, string[] Failures);

    /// <param name="members">name and address of each member to ask</param>
    /// <param name="needed">confirmations after which the answer need not wait for the others</param>
    public async Task<Outcome> HoldAsync(IReadOnlyCollection<string> hashes, IReadOnlyList<(string Name, Address Address)> members, int needed, DateTimeOffset deadline)
    {
        var held = new List<string>();
        var failures = new List<string>();
        if (needed <= 0 || hashes.Count == 0 || members.Count == 0) return new(held.ToArray(), failures.ToArray());

        var wait = deadline - DateTimeOffset.UtcNow;
        if (wait <= TimeSpan.Zero) return new([], ["no time left before the ack timeout"]);
        var blobs = hashes.ToArray();
        var fan = Math.Max(1, fanOut);
        var pending = members.Select((m, i) => (Member: m, Source: SourceOf(i, fan) is { } above ? members[above].Address.ToString() : selfAddress))
            .ToDictionary(
                a => system.ActorSelection(new RootActorPath(a.Member.Address) / "user" / ContentServer.Name)
                    .Ask<object>(new HoldContent(blobs, a.Source, selfAddress), wait),
                a => a.Member.Name);
        while (pending.Count > 0 && held.Count < needed)
        {
            var done = await Task.WhenAny(pending.Keys);
            var name = pending[done];
            pending.Remove(done);
            if (done.IsCompletedSuccessfully && done.Result is ContentHeld) held.Add(name);
            else if (done.IsCompletedSuccessfully && done.Result is ContentNotHeld not) failures.Add($"{name}: {not.Reason}");
            else failures.Add($"{name}: no answer within {wait.TotalSeconds:0.#}s");
        }
        // Whoever is still fetching carries on and stores the blobs; the answer does not wait for them.
        return new(held.ToArray(), failures.ToArray());
    }
}
