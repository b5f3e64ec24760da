using Akka.Actor;
using Akka.Remote;
using Mesh.Node.Membership;
using Mesh.Node.Tests.Support;

namespace Mesh.Node.Tests.Cluster;

/// <summary>
/// A member that quarantines a node has removed it for good: the node hears it from remoting
/// at its next contact and ends its incarnation to start again, rather than wait as an island.
/// The quarantine here is the real one a member applies (CrashWatch and the old-incarnation
/// removal call the same), and reaches the node over its real association.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class QuarantinedTests : IAsyncLifetime
{
    private readonly TestMesh _mesh = new();

    [Fact]
    public async Task A_node_a_member_quarantined_ends_its_incarnation_to_start_again_and_the_others_keep_running()
    {
        var a = _mesh.Start("a");
        var b = _mesh.Start("b");
        var c = _mesh.Start("c");
        await _mesh.Converged();
        var log = new LogWatch(c.System);

        ((IRemoteActorRefProvider)((ExtendedActorSystem)a.System).Provider).Quarantine(c.Cluster.SelfAddress, c.Cluster.SelfUniqueAddress.Uid);

        await c.System.WhenTerminated.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.IsType<PauseWatch.QuarantinedReason>(CoordinatedShutdown.Get(c.System).ShutdownReason);
        Assert.Equal(1, log.Count($"the member {a.Cluster.SelfAddress} has quarantined this node"));
        Assert.False(a.System.WhenTerminated.IsCompleted || b.System.WhenTerminated.IsCompleted, "a and b keep running");
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _mesh.DisposeAsync();
}
