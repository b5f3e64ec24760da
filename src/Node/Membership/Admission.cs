using System.Reflection;
using Akka.Actor;
using Akka.Cluster;
using Akka.Event;

namespace Mesh.Node.Membership;

/// <summary>
/// Lets a joining node in as soon as the mesh can, rather than on the timers. Akka's leader
/// moves a joining member to Up only on its leader-actions tick (every second), and only once
/// every member has seen the join, which spreads by gossip (every 500 ms, to one member at a
/// time); the joiner learns it is Up from a later gossip round still. A join thus waited 0.5–2 s
/// for timers. While a member is joining, every 20 ms the leader gossips to the members that
/// have not seen its latest state (each at most every 200 ms) and, once all have and none is
/// unreachable, runs its leader actions and gossips the result to every member at once; a
/// member the newcomer joined through gossips the join to the leader. Running the timers faster would cost every node CPU at rest, forever (docs/BENCHMARKS.md, 3c).
/// Akka has no public call for either step: they are the internal messages its own timers send
/// to the cluster daemon, resolved once here. Should a release rename them, the node logs so
/// and the timers admit joiners as before (<c>AdmissionTests</c> fails first).
/// </summary>
public sealed class Admission : ReceiveActor
{
    public const string Name = "admission";

    /// <summary>How long after the last join event this keeps nudging; a join stuck longer (a member unreachable) is Akka's to finish.</summary>
    private static readonly TimeSpan Window = TimeSpan.FromSeconds(3);
    /// <summary>Between two steps: a round trip on a LAN, and shorter than the scheduler's 100 ms tick, hence a plain delay.</summary>
    private static readonly TimeSpan Step = TimeSpan.FromMilliseconds(20);
    private static readonly TimeSpan Resend = TimeSpan.FromMilliseconds(200);

    private readonly Cluster _cluster = Cluster.Get(Context.System);
    private readonly ActorSelection _daemon = Context.ActorSelection("/system/cluster/core/daemon");
    private DateTime _until;
    private bool _stepping;
    /// <summary>Members seen joining and not yet seen Up (or gone) in the cluster's state, which lags the events a little.</summary>
    private readonly HashSet<UniqueAddress> _joiners = [];
    /// <summary>When this node last had the daemon gossip to each member.</summary>
    private readonly Dictionary<Address, DateTime> _sent = [];

    /// <summary>Akka's own messages to its cluster daemon, or null when this Akka release has none by these names.</summary>
    internal static readonly object? LeaderActionsTick = typeof(Cluster).Assembly.GetType("Akka.Cluster.InternalClusterAction+LeaderActionsTick")
        ?.GetProperty("Instance", BindingFlags.Public | BindingFlags.Static)?.GetValue(null);

    private static readonly ConstructorInfo? SendGossipTo = typeof(Cluster).Assembly.GetType("Akka.Cluster.InternalClusterAction+SendGossipTo")
        ?.GetConstructor(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance, [typeof(Address)]);

    /// <summary>Whether this Akka release has the messages the nudges are made of.</summary>
    internal static bool Available => LeaderActionsTick is not null && SendGossipTo is not null;

    public Admission()
    {
        Receive<ClusterEvent.MemberJoined>(joined =>
        {
            _joiners.Add(joined.Member.UniqueAddress);
            _until = DateTime.UtcNow + Window;
            if (!_stepping) Next();
        });
        Receive<Tick>(_ => Next());
    }

    protected override void PreStart()
    {
        if (!Available)
        {
            Context.GetLogger().Warning("this Akka release has no internal leader-actions and gossip messages by the names Mesh knows; joining members wait for Akka's timers");
            return;
        }
        _cluster.Subscribe(Self, ClusterEvent.SubscriptionInitialStateMode.InitialStateAsEvents, typeof(ClusterEvent.MemberJoined));
    }

    protected override void PostStop() => _cluster.Unsubscribe(Self);

    /// <summary>One step, and the next one scheduled while there is something left to do and time left.</summary>
    private void Next()
    {
        _stepping = Nudge() && DateTime.UtcNow < _until;
        if (_stepping) Task.Delay(Step).PipeTo(Self, success: () => Tick.Instance);
        else _sent.Clear();
    }

    /// <summary>One step; false once there is nothing left to do (no member joining, and every member has seen this node's latest state).</summary>
    private bool Nudge()
    {
        var state = _cluster.State;
        _joiners.RemoveWhere(j => state.Members.Any(m => m.UniqueAddress.Equals(j) && m.Status != MemberStatus.Joining));
        var others = state.Members.Where(m => !m.Address.Equals(_cluster.SelfAddress) && m.Status != MemberStatus.Removed).ToArray();
        var unseen = others.Where(m => !state.SeenBy.Contains(m.Address)).ToArray();
        var joining = state.Members.Any(m => m.Status == MemberStatus.Joining);
        if (state.Leader is not { } leader) return _joiners.Count > 0;
        if (!leader.Equals(_cluster.SelfAddress))
        {
            // The newcomer joined through this member: tell the leader, whose own admission takes over.
            if (unseen.Any(m => m.Address.Equals(leader))) GossipTo(leader);
            return _joiners.Count > 0;
        }
        if (joining && unseen.Length == 0 && state.Unreachable.Count == 0)
        {
            // The daemon takes these in order: the leader actions (Up) first, then the new state to everyone.
            _daemon.Tell(LeaderActionsTick, Self);
            foreach (var m in others) GossipTo(m.Address, force: true);
            return true;
        }
        foreach (var m in unseen) GossipTo(m.Address);
        return joining || unseen.Length > 0 || _joiners.Count > 0;
    }

    /// <summary>Has the daemon gossip its latest state to <paramref name="member"/>; again to the same member only after <see cref="Resend"/> (its answer may be on the way).</summary>
    private void GossipTo(Address member, bool force = false)
    {
        var now = DateTime.UtcNow;
        if (!force && _sent.TryGetValue(member, out var at) && now - at < Resend) return;
        _sent[member] = now;
        _daemon.Tell(SendGossipTo!.Invoke([member]), Self);
    }

    private sealed class Tick
    {
        public static readonly Tick Instance = new();
    }

    public static Props Props() => Akka.Actor.Props.Create(() => new Admission());
}
