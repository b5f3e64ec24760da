using System.Threading.Channels;
using Akka.Actor;
using Akka.Cluster;
using Akka.DistributedData;
using Mesh.Node.Membership;
using Mesh.Node.Replication;
using Mesh.Protocol.Api;
using Mesh.Protocol.Wire;
using PubSub = Akka.Cluster.Tools.PublishSubscribe;

namespace Mesh.Node.Api;

/// <summary>
/// Feeds the live event stream of the control API. Reports arrive twice, by the report topic
/// (at once) and by the replicated status map (surely); each is passed on once.
/// </summary>
public sealed class EventHub : ReceiveActor
{
    public const string Name = "events";
    private const int Remembered = 10_000;

    private readonly HashSet<ChannelWriter<MeshEvent>> _listeners = [];
    private readonly HashSet<string> _seen = new(StringComparer.Ordinal);
    private readonly Queue<string> _seenOrder = new();
    private readonly Cluster _cluster = Cluster.Get(Context.System);

    public EventHub()
    {
        Receive<Listen>(l => _listeners.Add(l.Writer));
        Receive<Unlisten>(l => _listeners.Remove(l.Writer));
        Receive<ApplyReport>(OnReport);
        Receive<RevisionRecord>(OnRevision);
        Receive<Changed>(c => c.Key.Equals(Replicated.Status), c =>
        {
            foreach (var report in c.Get(Replicated.Status).Entries.Values) OnReport(report);
        });
        Receive<Changed>(c => c.Key.Equals(Replicated.Index), c =>
        {
            foreach (var revision in c.Get(Replicated.Index).Entries.Values) OnRevision(revision);
        });
        Receive<ClusterEvent.IMemberEvent>(e => Emit(new MeshEvent("member", Member: Members.Describe(e.Member, _cluster))));
        Receive<ClusterEvent.UnreachableMember>(e => Emit(new MeshEvent("unreachable", Member: Members.Describe(e.Member, _cluster))));
        Receive<ClusterEvent.ReachableMember>(e => Emit(new MeshEvent("reachable", Member: Members.Describe(e.Member, _cluster))));
        Receive<ClusterEvent.CurrentClusterState>(_ => { });
        Receive<PubSub.SubscribeAck>(_ => { });
    }

    protected override void PreStart()
    {
        var mediator = PubSub.DistributedPubSub.Get(Context.System).Mediator;
        mediator.Tell(new PubSub.Subscribe(Replicated.ReportTopic, Self));
        mediator.Tell(new PubSub.Subscribe(Replicated.ChangeTopic, Self));
        var replicator = DistributedData.Get(Context.System).Replicator;
        replicator.Tell(new Subscribe(Replicated.Status, Self));
        replicator.Tell(new Subscribe(Replicated.Index, Self));
        _cluster.Subscribe(Self, ClusterEvent.SubscriptionInitialStateMode.InitialStateAsSnapshot,
            typeof(ClusterEvent.IMemberEvent), typeof(ClusterEvent.IReachabilityEvent));
    }

    protected override void PostStop()
    {
        _cluster.Unsubscribe(Self);
        foreach (var l in _listeners) l.TryComplete();
    }

    private void OnReport(ApplyReport report)
    {
        if (FirstTime($"report|{report.Node}|{report.Manifest}|{report.Version}|{report.Time.UtcTicks}"))
            Emit(new MeshEvent("report", Report: report));
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

    /// <summary>Local only: registers a stream listener.</summary>
    public sealed record Listen(ChannelWriter<MeshEvent> Writer);

    public sealed record Unlisten(ChannelWriter<MeshEvent> Writer);
}
