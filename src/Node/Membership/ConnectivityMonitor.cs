using Akka.Actor;
using Akka.Cluster;
using Akka.Event;

namespace Mesh.Node.Membership;

/// <summary>
/// Follows membership and reachability as this node sees them and tells
/// <see cref="Connectivity"/> whether any peer is reachable; logs when the node goes offline
/// and when it is back.
/// </summary>
public sealed class ConnectivityMonitor : ReceiveActor, IWithTimers
{
    public const string Name = "connectivity";

    private readonly Connectivity _connectivity;
    private readonly bool _standalone;
    private readonly Cluster _cluster = Cluster.Get(Context.System);
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly Dictionary<UniqueAddress, Member> _members = [];
    private readonly HashSet<UniqueAddress> _unreachable = [];
    private bool _hadPeer;
    private bool _wasMember;
    private bool _ending;

    public ITimerScheduler Timers { get; set; } = null!;

    /// <param name="standalone">started without seeds: alone, it is a mesh of one until it has had a peer</param>
    public ConnectivityMonitor(Connectivity connectivity, bool standalone)
    {
        _connectivity = connectivity;
        _standalone = standalone;
        Receive<ClusterEvent.CurrentClusterState>(state =>
        {
            _members.Clear();
            foreach (var m in state.Members) _members[m.UniqueAddress] = m;
            _unreachable.Clear();
            _unreachable.UnionWith(state.Unreachable.Select(m => m.UniqueAddress));
            Evaluate();
        });
        Receive<ClusterEvent.MemberRemoved>(e =>
        {
            _members.Remove(e.Member.UniqueAddress);
            _unreachable.Remove(e.Member.UniqueAddress);
            Evaluate();
        });
        Receive<ClusterEvent.IMemberEvent>(e =>
        {
            _members[e.Member.UniqueAddress] = e.Member;
            Evaluate();
        });
        Receive<ClusterEvent.UnreachableMember>(e =>
        {
            _unreachable.Add(e.Member.UniqueAddress);
            Evaluate();
        });
        Receive<ClusterEvent.ReachableMember>(e =>
        {
            _unreachable.Remove(e.Member.UniqueAddress);
            Evaluate();
        });
        Receive<JoinTimeout>(_ =>
        {
            if (_connectivity.StillJoining() is { } line) _log.Warning("{0}", line);
        });
    }

    protected override void PreStart()
    {
        _cluster.Subscribe(Self, ClusterEvent.SubscriptionInitialStateMode.InitialStateAsSnapshot,
            typeof(ClusterEvent.IMemberEvent), typeof(ClusterEvent.IReachabilityEvent));
        Timers.StartSingleTimer(nameof(JoinTimeout), JoinTimeout.Instance, _cluster.Settings.SeedNodeTimeout);
    }

    protected override void PostStop() => _cluster.Unsubscribe(Self);

    private void Evaluate()
    {
        var self = _cluster.SelfUniqueAddress;
        // Leaving, downed or removed, this incarnation is ending: its last word stands (a new
        // incarnation carries on from it), and a graceful leave is not "offline".
        if (_ending) return;
        _members.TryGetValue(self, out var me);
        if (me?.Status is MemberStatus.Leaving or MemberStatus.Exiting or MemberStatus.Down || (me is null && _wasMember))
        {
            _ending = true;
            return;
        }
        _wasMember |= me is not null;
        var joined = me?.Status is MemberStatus.Up or MemberStatus.WeaklyUp;
        var peers = _members.Values
            .Where(m => !m.UniqueAddress.Equals(self) && m.Status is MemberStatus.Joining or MemberStatus.WeaklyUp or MemberStatus.Up or MemberStatus.Leaving)
            .ToArray();
        foreach (var peer in peers) _connectivity.SawPeer(peer.Address);
        _hadPeer |= peers.Length > 0;
        var reachable = peers.Count(m => !_unreachable.Contains(m.UniqueAddress));

        string? offline = !joined ? Connectivity.NotJoined
            : reachable > 0 ? null
            : peers.Length > 0 ? Connectivity.NoPeerReachable
            : _standalone && !_hadPeer ? null
            : Connectivity.Alone;
        if (_connectivity.Observe(offline, reachable, DateTimeOffset.UtcNow) is { } line)
        {
            if (offline is null) _log.Info("{0}", line);
            else _log.Warning("{0}", line);
        }
    }

    private sealed class JoinTimeout
    {
        public static readonly JoinTimeout Instance = new();
    }

    public static Props Props(Connectivity connectivity, bool standalone) =>
        Akka.Actor.Props.Create(() => new ConnectivityMonitor(connectivity, standalone));
}
