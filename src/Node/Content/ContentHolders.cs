using Akka.Actor;
using Mesh.Protocol.Wire;

namespace Mesh.Node.Content;

/// <summary>
/// "Ask many, gather answers, decide on silence" for a change's blobs: asks members to store
/// them (<see cref="HoldContent"/>, each peer pulling by chunks through its own fetcher) and
/// returns as soon as enough confirmed, or at the deadline with who did and why the others did not.
/// A member that stays silent until the deadline did not hold them.
/// </summary>
public sealed class ContentHolders(ActorSystem system, string selfAddress)
{
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
        var message = new HoldContent(hashes.ToArray(), selfAddress);
        var pending = members.ToDictionary(
            m => system.ActorSelection(new RootActorPath(m.Address) / "user" / ContentServer.Name).Ask<object>(message, wait),
            m => m.Name);
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
