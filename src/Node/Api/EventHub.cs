using System.Threading.Channels;
using Akka.Actor;
using Akka.Cluster;
using Akka.DistributedData;
using Mesh.Node.Membership;
using Mesh.Node.Replication;
using Mesh.Protocol.Api;
using Mesh.Protocol.Wire;

namespace Mesh.Node.Api;

/// <summary>
/// Feeds the live event stream of the control API. Reports arrive twice, by the report topic
/// (at once) and by the replicated status map (surely); each is passed on once.
/// </summary>
public sealed class EventHub : ReceiveActor
{
    public const string Name = "events";
    private const int Remembered = 10_000;
    /// <summary>Events one listener may have waiting; a listener that cannot keep up loses the oldest.</summary>
    private const int Buffered = 4096;

    private readonly HashSet<ChannelWriter<MeshEvent>> _listeners = [];
    private readonly HashSet<string> _seen = new(StringComparer.Ordinal);
    private readonly HashSet<string> _followed = new(StringComparer.Ordinal);
    private readonly Queue<string> _seenOrder = new();
    private readonly Cluster _cluster = Cluster.Get(Context.System);
    private readonly ReplicatedStore _store;

    private readonly IActorRef _topics;

    public EventHub(ReplicatedStore store, IActorRef topics)
    {
        _store = store;
        _topics = topics;
        Receive<Listen>(l => _listeners.Add(l.Writer));
        Receive<Unlisten>(l => _listeners.Remove(l.Writer));
        Receive<ApplyReport>(OnReport);
        Receive<RevisionRecord>(OnRevision);
        Receive<Changed>(c =>
        {
            foreach (var report in ReplicatedStore.Reports(c)) OnReport(report);
            foreach (var revision in ReplicatedStore.Revisions(c)) OnRevision(revision);
        });
        Receive<ClusterEvent.IMemberEvent>(e =>
        {
            // Each node's reports live under its own key: follow it from the moment the node is seen.
            if (e is ClusterEvent.MemberUp or ClusterEvent.MemberJoined or ClusterEvent.MemberWeaklyUp)
                FollowReportsOf(NodeRoles.Decode(e.Member).Name);
            Emit(new MeshEvent("member", Member: Members.Describe(e.Member, _cluster)));
        });
        Receive<ClusterEvent.UnreachableMember>(e => Emit(new MeshEvent("unreachable", Member: Members.Describe(e.Member, _cluster))));
        Receive<ClusterEvent.ReachableMember>(e => Emit(new MeshEvent("reachable", Member: Members.Describe(e.Member, _cluster))));
        Receive<ClusterEvent.CurrentClusterState>(state =>
        {
            foreach (var m in state.Members) FollowReportsOf(NodeRoles.Decode(m).Name);
        });
    }

    protected override void PreStart()
    {
        _topics.Tell(new Topics.Subscribe(Replicated.ReportTopic, Self));
        _topics.Tell(new Topics.Subscribe(Replicated.ChangeTopic, Self));
        _store.SubscribeToIndex(Self);
        _cluster.Subscribe(Self, ClusterEvent.SubscriptionInitialStateMode.InitialStateAsSnapshot,
            typeof(ClusterEvent.IMemberEvent), typeof(ClusterEvent.IReachabilityEvent));
    }

    protected override void PostStop()
    {
        _cluster.Unsubscribe(Self);
        foreach (var l in _listeners) l.TryComplete();
    }

    private void FollowReportsOf(string node)
    {
        if (_followed.Add(node)) _store.SubscribeToReportsOf(node, Self);
    }

    private void OnReport(ApplyReport report)
    {
        if (FirstTime($"report|{report.Node}|{report.Manifest}|{report.Version}|{report.Time.UtcTicks}"))
            Emit(new MeshEvent(report.Drift ? "drift" : "report", Report: report));
    }

    private void OnRevision(RevisionRecord revision)
    {
        if (FirstTime($"revision|{revision.Manifest}|{revision.Version}"))
            Emit(new MeshEvent("revision", Revision: revision));
    }

    private bool FirstTime(string key)
    {
        if (!_seen.Add(key)) return false;
        _seenOrder.Enqueue(key);
        if (_seenOrder.Count > Remembered) _seen.Remove(_seenOrder.Dequeue());
        return true;
    }

    private void Emit(MeshEvent e)
    {
        // A listener that cannot keep up loses events rather than slowing the node.
        foreach (var l in _listeners) l.TryWrite(e);
    }

    /// <summary>A live feed of the events of the hub <paramref name="hub"/> until <paramref name="cancel"/> fires.</summary>
    public static ChannelReader<MeshEvent> Feed(IActorRef hub, CancellationToken cancel)
    {
        var channel = Channel.CreateBounded<MeshEvent>(new BoundedChannelOptions(Buffered) { FullMode = BoundedChannelFullMode.DropOldest });
        hub.Tell(new Listen(channel.Writer));
        cancel.Register(() =>
        {
            hub.Tell(new Unlisten(channel.Writer));
            channel.Writer.TryComplete();
        });
        return channel.Reader;
    }

    public static Props Props(ReplicatedStore store, IActorRef topics) => Akka.Actor.Props.Create(() => new EventHub(store, topics));

    /// <summary>Local only: registers a stream listener.</summary>
    public sealed record Listen(ChannelWriter<MeshEvent> Writer);

    public sealed record Unlisten(ChannelWriter<MeshEvent> Writer);
}
