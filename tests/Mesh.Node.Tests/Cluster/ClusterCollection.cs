namespace Mesh.Node.Tests.Cluster;

/// <summary>In-process cluster tests run one at a time: each starts several nodes on a small machine.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ClusterCollection
{
    public const string Name = "cluster";
}
