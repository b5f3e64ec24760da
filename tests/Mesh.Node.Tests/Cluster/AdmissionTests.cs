using Akka.Cluster;
using Mesh.Node.Membership;
using Mesh.Node.Tests.Support;

namespace Mesh.Node.Tests.Cluster;

/// <summary>
/// A joining node is let in by the leader as soon as every member has seen it (<see cref="Admission"/>),
/// not on Akka's leader-actions and gossip timers: here both are set to ten minutes, so only the
/// admission can move the newcomers to Up within the test's deadline.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class AdmissionTests : IAsyncLifetime
{
    private readonly TestMesh _mesh = new();

    private const string SlowTimers = """
        akka.cluster.leader-actions-interval = 10m
        akka.cluster.gossip-interval = 10m
        """;

    [Fact]
    public void This_Akka_release_has_the_internal_messages_the_admission_sends()
    {
        Assert.True(Admission.Available, "Akka.Cluster's InternalClusterAction.LeaderActionsTick / SendGossipTo were not found: joins wait for the timers");
        Assert.NotNull(Admission.LeaderActionsTick);
    }

    [Fact]
    public async Task Joining_nodes_are_up_on_every_member_without_waiting_for_the_leader_and_gossip_timers()
    {
        var a = _mesh.Start("a", extraHocon: SlowTimers);
        await Eventually.True(() => a.Cluster.SelfMember.Status == MemberStatus.Up, "a, which seeds the mesh, is up");
        _mesh.Start("b", extraHocon: SlowTimers);
        await _mesh.Converged();
        // A third joins a mesh of two: the leader must first have the other member see the join.
        _mesh.Start("c", extraHocon: SlowTimers);
        await _mesh.Converged();
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _mesh.DisposeAsync();
}
