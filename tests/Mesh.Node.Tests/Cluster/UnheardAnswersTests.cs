using System.Collections.Concurrent;
using Akka.Actor;
using Akka.Cluster;
using Akka.Remote;
using Mesh.Node.Membership;
using Mesh.Node.Tests.Support;
using Mesh.Protocol.Wire;

namespace Mesh.Node.Tests.Cluster;

/// <summary>
/// A node asking to join says in its probe how many rounds it has heard nothing from the node
/// it asks; one that answered and is still unheard drops its connections to the asker, so its
/// next answer goes out on a new one. The probes are sent here from a member's ActorSystem, so
/// they come from a real address with a real association behind it.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class UnheardAnswersTests : IAsyncLifetime
{
    private readonly TestMesh _mesh = new();

    [Fact]
    public async Task A_probe_saying_the_answers_went_unheard_drops_the_connections_to_the_asker_once_and_the_mesh_stays_whole()
    {
        var a = _mesh.Start("a");
        var b = _mesh.Start("b");
        await _mesh.Converged();
        var log = new LogWatch(a.System);
        var dropped = new ConcurrentQueue<Address>();
        a.System.EventStream.Subscribe(a.System.ActorOf(Props.Create(() => new Disassociations(dropped))), typeof(DisassociatedEvent));
        var probeOfA = b.System.ActorSelection(new RootActorPath(a.Cluster.SelfAddress) / "user" / SeedProbe.Name);
        var uid = b.Cluster.SelfUniqueAddress.Uid;

        // Heard in the last round: nothing to repair.
        await probeOfA.Ask<JoinProbeAnswer>(new JoinProbe("b", uid, Unheard: 0), TimeSpan.FromSeconds(10));
        Assert.Equal(0, log.Count("has heard no answer from this node"));

        // Unheard for a whole round though a has been answering (for half a round or more): a drops
        // what it has to b's address, without quarantining any uid. b probes once per round; here as
        // often as the wait looks, until a has answered long enough to take the loss for real.
        await Eventually.True(() =>
        {
            probeOfA.Tell(new JoinProbe("b", uid, Unheard: 1), b.System.ActorOf(Props.Empty));
            return log.Count("has heard no answer from this node") > 0;
        }, "a says why it drops its connection to b");
        Assert.Equal(1, log.Count($"b ({b.Cluster.SelfAddress}) has heard no answer from this node for 1 rounds"));
        await Eventually.True(() => dropped.Contains(b.Cluster.SelfAddress), $"a drops its connection to b (dropped: {string.Join(", ", dropped)})");

        // The next answer arrives on a new connection (the gate is a moment; an ask within it goes unanswered).
        await Eventually.Value(async () =>
        {
            try
            {
                return (await probeOfA.Ask<JoinProbeAnswer>(new JoinProbe("b", uid), TimeSpan.FromSeconds(3))).Status;
            }
            catch (AskTimeoutException)
            {
                return null;
            }
        }, "a answers b again", TimeSpan.FromSeconds(30));

        // Nobody was quarantined: both stay members, reachable to each other.
        await Eventually.True(() => new[] { a, b }.All(n => n.Cluster.State.Members.Count(m => m.Status == MemberStatus.Up) == 2 && n.Cluster.State.Unreachable.Count == 0),
            "a and b see each other up and reachable");
        Assert.False(a.System.WhenTerminated.IsCompleted || b.System.WhenTerminated.IsCompleted, "a and b keep running");
    }

    private sealed class Disassociations : ReceiveActor
    {
        public Disassociations(ConcurrentQueue<Address> dropped) => Receive<DisassociatedEvent>(e => dropped.Enqueue(e.RemoteAddress));
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _mesh.DisposeAsync();
}
