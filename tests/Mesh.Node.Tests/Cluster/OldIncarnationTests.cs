using Akka.Actor;
using Akka.Cluster;
using Mesh.Node.Membership;
using Mesh.Node.Tests.Support;
using Mesh.Protocol.Wire;

namespace Mesh.Node.Tests.Cluster;

/// <summary>
/// A node started again on its address after a crash says so in its join probe (its new uid):
/// the member still standing at that address under the old uid is removed at once, rather than
/// after the failure detector and the resolver. The probe is sent here from the member's own
/// ActorSystem, so it comes from the member's address, as a new incarnation's would.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class OldIncarnationTests : IAsyncLifetime
{
    private readonly TestMesh _mesh = new();

    [Fact]
    public async Task A_join_probe_from_a_members_address_under_another_uid_removes_that_member_and_one_under_its_own_uid_does_not()
    {
        var a = _mesh.Start("a");
        var b = _mesh.Start("b");
        await _mesh.Converged();
        var log = new LogWatch(a.System);
        var probeOfA = b.System.ActorSelection(new RootActorPath(a.Cluster.SelfAddress) / "user" / SeedProbe.Name);

        // b asking under its own uid is b itself (a probe a node sent just before it joined): nothing happens.
        var answer = await probeOfA.Ask<JoinProbeAnswer>(new JoinProbe("b", b.Cluster.SelfUniqueAddress.Uid), TimeSpan.FromSeconds(10));
        Assert.Equal(("a", "up"), (answer.Name, answer.Status));
        await probeOfA.Ask<JoinProbeAnswer>(new JoinProbe("b"), TimeSpan.FromSeconds(10));
        Assert.Equal(MemberStatus.Up, a.Cluster.State.Members.Single(m => m.Address.Equals(b.Cluster.SelfAddress)).Status);
        Assert.Equal(0, log.Count("was started again"));

        // Under another uid it is a new process on b's port: the member b is taken for gone and removed.
        // (Told, not asked: b's own association is quarantined with it, so an answer may never arrive.)
        probeOfA.Tell(new JoinProbe("b", b.Cluster.SelfUniqueAddress.Uid + 1), b.System.ActorOf(Props.Empty));
        await Eventually.True(() => a.Cluster.State.Members.All(m => !m.Address.Equals(b.Cluster.SelfAddress)), "a removes b", TimeSpan.FromSeconds(30));
        Assert.Equal(1, log.Count($"b ({b.Cluster.SelfAddress}) was started again"));
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _mesh.DisposeAsync();
}
