using Akka.Actor;
using Mesh.Protocol.Wire;

namespace Mesh.Node.Converge;

/// <summary>
/// What the converger reads and writes of the fleet's state: the replicated store on a member
/// (<see cref="Replication.ReplicatedStore"/>), the core peer it is attached to on an attached
/// host (<see cref="Attached.PeerStore"/>). News of revisions comes as the replicator's
/// <c>Changed</c> or as <see cref="IndexHeads"/>; news of rollouts as <c>Changed</c> or as the
/// records and steps themselves.
/// </summary>
public interface IConvergeStore
{
    void SubscribeToIndex(IActorRef subscriber);

    void SubscribeToRollouts(IActorRef subscriber);

    /// <summary>This node's latest report for a manifest. Not awaited.</summary>
    void PutReport(ApplyReport report);

    /// <summary>Drops this node's report for a manifest it no longer enforces. Not awaited.</summary>
    void RemoveReport(string node, string manifest);

    /// <summary>This node's step in a rollout. Not awaited.</summary>
    void PutStep(RolloutStep step);

    /// <summary>Every retained revision of a manifest, newest first (empty where no history is kept).</summary>
    Task<IReadOnlyList<RevisionRecord>> HistoryAsync(string manifest);
}

/// <summary>Heads of the index as a whole or as news, for a converger that does not read the replicator: as sure as the index.</summary>
public sealed record IndexHeads(IReadOnlyList<RevisionRecord> Heads);
