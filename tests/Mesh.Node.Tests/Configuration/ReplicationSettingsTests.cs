using Akka.DistributedData;
using Mesh.Node.Configuration;

namespace Mesh.Node.Tests.Configuration;

/// <summary>How the embedded cluster.hocon sets up the replicated data.</summary>
public sealed class ReplicationSettingsTests
{
    private static ReplicatorSettings Replicator() =>
        ReplicatorSettings.Create(NodeConfig.Embedded().GetConfig("akka.cluster.distributed-data")
            .WithFallback(DistributedData.DefaultConfig().GetConfig("akka.cluster.distributed-data")));

    /// <summary>
    /// The replicator's pruning can take a live member for a removed one (a node still joining
    /// when the leader collected removed nodes), after which every write of that member is
    /// stripped wherever it arrives although it was acknowledged. So no incarnation is pruned.
    /// </summary>
    [Fact]
    public void The_replicator_never_prunes_an_incarnation()
    {
        Assert.Equal(TimeSpan.Zero, Replicator().PruningInterval);
    }
}
