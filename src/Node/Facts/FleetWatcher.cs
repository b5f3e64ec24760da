using Akka.Actor;
using Akka.Cluster;
using Akka.DistributedData;
using Mesh.Node.Membership;
using Mesh.Node.Replication;

namespace Mesh.Node.Facts;

/// <summary>
/// Keeps <see cref="FleetView.Snapshot"/> up to date from the cluster's membership and the
/// replicated facts, through a <see cref="FleetState"/>, and tells the converger when what a
/// template could see changed. Changes are gathered for a moment (<see cref="Settle"/>) so that a
/// burst (a node joining and publishing its facts) is one re-render; a timer runs only while a
/// departed member waits out its grace, so an idle fleet wakes nobody.
/// </summary>
public sealed class FleetWatcher : ReceiveActor, IWithTimers
{
    public const string Name = "fleet";

    public static readonly TimeSpan Settle = TimeSpan.FromMilliseconds(250);

    private readonly Cluster _cluster = Cluster.Get(Context.System);
    private readonly FleetState _state;
    private readonly FleetView _view;
    private readonly ReplicatedStore _store;
    private readonly IActorRef _converger;
    private string _signature = "";

    public ITimerScheduler Timers { get; set; } = null!;

    public FleetWatcher(FleetView view, ReplicatedStore store, IActorRef converger, TimeSpan grace)
    {
        _view = view;
        _store = store;
        _converger = converger;
        _state = new FleetState(grace);
        Receive<ClusterEvent.IClusterDomainEvent>(_ => Changed());
        Receive<ClusterEvent.CurrentClusterState>(_ => Changed());
        Receive<Changed>(c =>
        {
            foreach (var facts in ReplicatedStore.Facts(c)) _state.Publish(facts);
            Changed();
        });
        Receive<Publish>(_ => Update());
    }

    protected override void PreStart()
    {
        _cluster.Subscribe(Self, ClusterEvent.SubscriptionInitialStateMode.InitialStateAsSnapshot,
            typeof(ClusterEvent.IMemberEvent), typeof(ClusterEvent.IReachabilityEvent));
        _store.SubscribeToFacts(Self);
    }

    protected override void PostStop() => _cluster.Unsubscribe(Self);

    private void Changed()
    {
        if (!Timers.IsTimerActive("publish")) Timers.StartSingleTimer("publish", Publish.Instance, Settle);
    }

    private void Update()
    {
        var now = DateTime.UtcNow;
        var unreachable = _cluster.State.Unreachable;
        _state.SetMembers(Members.Active(_cluster).Select(m => (NodeRoles.Decode(m), m.Address.Host ?? "", !unreachable.Contains(m))), now);
        _state.Expire(now);
        _view.Snapshot = _state.Snapshot();
        _view.Joined = _cluster.SelfMember.Status is MemberStatus.Up or MemberStatus.WeaklyUp;
        var signature = _state.Signature() + _view.Joined;
        if (signature != _signature)
        {
            _signature = signature;
            _converger.Tell(FleetChanged.Members);
        }
        // Its own timer: a change heard meanwhile must not wait for the next expiry.
        if (_state.NextExpiry is { } next) Timers.StartSingleTimer("expire", Publish.Instance, next - now < Settle ? Settle : next - now);
        else Timers.Cancel("expire");
    }

    private sealed class Publish
    {
        public static readonly Publish Instance = new();
    }

    public static Props Props(FleetView view, ReplicatedStore store, IActorRef converger, TimeSpan grace) =>
        Akka.Actor.Props.Create(() => new FleetWatcher(view, store, converger, grace));
}
