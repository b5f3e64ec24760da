using Akka.Actor;
using Akka.Cluster;
using Mesh.Node.Converge;
using Mesh.Node.Replication;
using Mesh.Protocol.Wire;

namespace Mesh.Node.Service;

/// <summary>
/// Whether this node is ready: its own member is Up in its view of the cluster (a lone seed
/// that joined itself counts once Up), and its converger has dealt with every head of the index
/// that targets it (<see cref="EnforcementProgress.PendingFor"/>). The index is read from a
/// majority of the members, not only this replica: a node that just joined has an empty replica
/// until gossip fills it, and would otherwise call itself caught up with nothing. Read by
/// <c>GET /readyz</c> and by the systemd notification (<see cref="ServiceNotifier"/>).
/// </summary>
public sealed class Readiness(ActorSystem system, Cluster cluster, ReplicatedStore store, ConvergeProgress progress)
{
    /// <summary>How many pending manifests a reason names before it says "...".</summary>
    private const int Named = 5;

    /// <summary>How long the majority read of the index may take; a probe should answer well within its own timeout.</summary>
    private static readonly TimeSpan ReadTimeout = TimeSpan.FromSeconds(3);

    /// <summary>The process runs and this incarnation's actor system is not terminated.</summary>
    public bool Alive => !system.WhenTerminated.IsCompleted;

    public async Task<ReadinessReport> CheckAsync()
    {
        if (!Alive) return new ReadinessReport(false, "removed", 0, "not Up: the actor system stopped");
        var status = cluster.SelfMember.Status;
        // Not Up, the index is moot (and a node still joining may not have it yet).
        if (status != MemberStatus.Up) return Decide(status, [], progress.Latest);
        // This replica first: a majority's heads are never older than this replica's, so what is
        // pending here is pending there too, and the majority (32 shard reads over the network,
        // four times a second while the node starts) is asked only once nothing is pending here.
        ReadinessReport local;
        try
        {
            local = Decide(status, (await store.IndexAsync()).Values, progress.Latest);
        }
        catch (StoreUnavailableException e)
        {
            return new ReadinessReport(false, Name(status), 0, $"cannot read this node's index: {e.Message}");
        }
        if (!local.Ready) return local;
        IReadOnlyDictionary<string, RevisionRecord> index;
        try
        {
            index = await store.IndexAsync(new Akka.DistributedData.ReadMajority(ReadTimeout));
        }
        catch (StoreUnavailableException e)
        {
            return new ReadinessReport(false, Name(status), 0, $"cannot compare with the index of a majority of members: {e.Message}");
        }
        return Decide(status, index.Values, progress.Latest);
    }

    /// <summary>The decision, from what was read: this member's status, the index, the converger's progress (null: not started).</summary>
    public static ReadinessReport Decide(MemberStatus status, IEnumerable<RevisionRecord> index, EnforcementProgress? progress)
    {
        if (status != MemberStatus.Up) return new ReadinessReport(false, Name(status), 0, $"not Up: {Name(status)}");
        if (progress is null) return new ReadinessReport(false, Name(status), 0, "the converger has not started");
        var pending = progress.PendingFor(index);
        if (pending.Length == 0) return new ReadinessReport(true, Name(status), 0, null);
        var names = string.Join(", ", pending.Take(Named)) + (pending.Length > Named ? ", ..." : "");
        return new ReadinessReport(false, Name(status), pending.Length, $"{pending.Length} manifest(s) not yet applied: {names}");
    }

    private static string Name(MemberStatus status) => status.ToString().ToLowerInvariant();
}

/// <summary>The body of <c>GET /readyz</c>: ready or not, this member's status, how many manifests are pending, and why not.</summary>
public sealed record ReadinessReport(bool Ready, string Member, int Pending, string? Reason);
