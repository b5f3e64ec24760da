using System.Net.Sockets;
using Akka.Actor;
using Akka.Cluster;
using Akka.Event;
using Akka.Remote;

namespace Mesh.Node.Membership;

/// <summary>
/// Removes a member whose process is gone at once, instead of waiting out the failure detector
/// and the split-brain resolver (acceptable-heartbeat-pause + stable-after, ~30 s). It matters
/// beyond that member: while any member is unreachable and not yet down, Akka's leader can move
/// no one to Up, so a node restarted after kill -9, or a new host, would wait for the dead
/// one too; and pushes would keep asking it to hold their bodies.
/// <para>
/// A member whose connection dropped (a process that dies closes its sockets) or that the
/// failure detector marks unreachable is suspected; its cluster port is then probed once a second
/// with a plain TCP connect. A port that refuses the connection twice in a row on a host that
/// still answers means no process listens there: the member is quarantined (Akka then counts it
/// terminated, which the leader needs to remove it) and downed. A frozen process (SIGSTOP, a
/// starved host) still has its port accepting, and a cut link or a host that is down answers
/// nothing: those are left to the failure detector and the resolver as before. Only a node that
/// sees a majority of the members alive acts, so an isolated minority can never down the rest.
/// A process started again on the same port answers the probe and joins as a new incarnation
/// (Akka downs the old one then). Costs nothing while no member is suspected.
/// </para>
/// </summary>
public sealed class CrashWatch : ReceiveActor, IWithTimers
{
    public const string Name = "crash-watch";

    /// <summary>Between two probes of a suspected member, and the longest a probe waits for an answer.</summary>
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(1);

    /// <summary>Refusals in a row before the member is taken for dead: one could be a port between two processes.</summary>
    public const int Refusals = 2;

    private readonly Cluster _cluster = Cluster.Get(Context.System);
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly Func<Address, TimeSpan, Task<PortAnswer>> _probe;

    /// <summary>Suspected members and how many times in a row their port refused.</summary>
    private readonly Dictionary<UniqueAddress, int> _suspects = [];

    private readonly HashSet<UniqueAddress> _probing = [];

    /// <summary>Dead members this node has said it cannot remove yet (no majority alive): said once.</summary>
    private readonly HashSet<UniqueAddress> _waitingForMajority = [];

    public ITimerScheduler Timers { get; set; } = null!;

    public CrashWatch(Func<Address, TimeSpan, Task<PortAnswer>> probe)
    {
        _probe = probe;
        Receive<ClusterEvent.UnreachableMember>(e => Suspect(e.Member.UniqueAddress));
        Receive<DisassociatedEvent>(e =>
        {
            if (_cluster.State.Members.FirstOrDefault(m => m.Address.Equals(e.RemoteAddress)) is { } member) Suspect(member.UniqueAddress);
        });
        Receive<ClusterEvent.MemberRemoved>(e =>
        {
            _suspects.Remove(e.Member.UniqueAddress);
            _waitingForMajority.Remove(e.Member.UniqueAddress);
        });
        Receive<ClusterEvent.IMemberEvent>(_ => { });
        Receive<ClusterEvent.ReachableMember>(_ => { });
        Receive<Tick>(_ =>
        {
            foreach (var suspect in _suspects.Keys.Where(s => _probing.Add(s)).ToArray())
                _probe(suspect.Address, Interval).PipeTo(Self,
                    success: answer => new Probed(suspect, answer),
                    failure: _ => new Probed(suspect, PortAnswer.Silent));
        });
        Receive<Probed>(Judge);
    }

    protected override void PreStart()
    {
        _cluster.Subscribe(Self, ClusterEvent.SubscriptionInitialStateMode.InitialStateAsEvents,
            typeof(ClusterEvent.UnreachableMember), typeof(ClusterEvent.ReachableMember), typeof(ClusterEvent.MemberRemoved));
        Context.System.EventStream.Subscribe(Self, typeof(DisassociatedEvent));
    }

    protected override void PostStop()
    {
        _cluster.Unsubscribe(Self);
        Context.System.EventStream.Unsubscribe(Self);
    }

    public static Props Props() => Akka.Actor.Props.Create(() => new CrashWatch(ProbeAsync));

    public static Props Props(Func<Address, TimeSpan, Task<PortAnswer>> probe) => Akka.Actor.Props.Create(() => new CrashWatch(probe));

    private void Suspect(UniqueAddress node)
    {
        if (node.Equals(_cluster.SelfUniqueAddress) || Current(node) is null || !_suspects.TryAdd(node, 0)) return;
        if (!Timers.IsTimerActive("probe")) Timers.StartPeriodicTimer("probe", Tick.Instance, TimeSpan.Zero, Interval);
    }

    /// <summary>The member as the cluster lists it now, if it is one this watch may still act on.</summary>
    private Member? Current(UniqueAddress node) =>
        _cluster.State.Members.FirstOrDefault(m => m.UniqueAddress.Equals(node)) is { Status: MemberStatus.Joining or MemberStatus.WeaklyUp or MemberStatus.Up } member
            ? member : null;

    private void Judge(Probed probed)
    {
        _probing.Remove(probed.Node);
        if (!_suspects.ContainsKey(probed.Node)) return;
        var member = Current(probed.Node);
        var unreachable = member is not null && _cluster.State.Unreachable.Contains(member);
        if (member is null || (probed.Answer != PortAnswer.Refused && !unreachable))
        {
            // Down, gone, or back and answering: nothing more to watch.
            _suspects.Remove(probed.Node);
        }
        else if (probed.Answer != PortAnswer.Refused)
            _suspects[probed.Node] = 0; // frozen or cut off: the failure detector's case
        else if (++_suspects[probed.Node] >= Refusals && Down(member))
            _suspects.Remove(probed.Node);
        // Without a majority in sight it stays suspected and is judged again at the next refusal:
        // another crashed member that is started again meanwhile counts as alive once it answers.
        if (_suspects.Count == 0) Timers.Cancel("probe");
    }

    /// <summary>Downs a member whose process is gone, if this node sees a majority alive; false when it does not (yet).</summary>
    private bool Down(Member dead)
    {
        var state = _cluster.State;
        var members = state.Members.Where(m => m.Status is MemberStatus.Up or MemberStatus.WeaklyUp or MemberStatus.Leaving).ToArray();
        var alive = members.Count(m => !m.Equals(dead) && !state.Unreachable.Contains(m)
            && !(_suspects.TryGetValue(m.UniqueAddress, out var refused) && refused > 0));
        var name = NodeRoles.Decode(dead).Name;
        if (alive * 2 <= members.Length)
        {
            if (_waitingForMajority.Add(dead.UniqueAddress))
                _log.Warning("{0} ({1}) refuses connections on its cluster port, but this node sees only {2} of {3} members alive, no majority: " +
                    "not removing it until a majority is alive again (or the split-brain resolver acts)", name, dead.Address, alive, members.Length);
            return false;
        }
        _log.Warning("{0} ({1}) refuses connections on its cluster port: its process is gone; removing it from the mesh now " +
            "instead of after the failure detector and the resolver, so that no restart or join waits for it", name, dead.Address);
        ((IRemoteActorRefProvider)((ExtendedActorSystem)Context.System).Provider).Quarantine(dead.Address, dead.UniqueAddress.Uid);
        _cluster.Down(dead.Address);
        // Remoting says "quarantined" to the cluster itself only while its connection to the
        // address is still live; after a refused reconnect it does not, and the down member then
        // stays until the failure detector marks it unreachable (a restart on its address waited
        // for that, past 15 s). Said here, the cluster marks it terminated and the leader removes it.
        Context.System.EventStream.Publish(new QuarantinedEvent(dead.Address, dead.UniqueAddress.Uid));
        return true;
    }

    /// <summary>One TCP connect to a member's cluster port, then closed without a byte sent.</summary>
    public static async Task<PortAnswer> ProbeAsync(Address address, TimeSpan timeout)
    {
        if (address.Host is not { } host || address.Port is not { } port) return PortAnswer.Silent;
        using var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
        using var deadline = new CancellationTokenSource(timeout);
        try
        {
            await socket.ConnectAsync(host, port, deadline.Token);
            return PortAnswer.Accepted;
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.ConnectionRefused)
        {
            return PortAnswer.Refused;
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException)
        {
            return PortAnswer.Silent;
        }
    }

    /// <summary>What a member's cluster port said to a connect.</summary>
    public enum PortAnswer
    {
        /// <summary>A process listens (it may still be frozen).</summary>
        Accepted,

        /// <summary>The host answered that nothing listens there.</summary>
        Refused,

        /// <summary>No answer in time, or no route: the host or the link is down, not known to be the process.</summary>
        Silent,
    }

    private sealed record Probed(UniqueAddress Node, PortAnswer Answer);

    private sealed class Tick
    {
        public static readonly Tick Instance = new();
    }
}
