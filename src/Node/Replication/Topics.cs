using Akka.Actor;
using Akka.Cluster;
using Mesh.Protocol.Wire;

namespace Mesh.Node.Replication;

/// <summary>
/// The fast path beside the replicated data: what is published on a topic (a new revision, a
/// report, a rollout step) is sent at once to this actor on every member, which hands it to the
/// actors of its node subscribed to the topic. The membership is the registry: a node is reached
/// from the moment this one sees it join, and there is nothing else to spread. Akka's
/// distributed pub-sub spreads each subscription by a gossip of its own (1–5 s, AKKA-NOTES) and
/// drops what is published to a node before its subscription arrived, and its registry gossips
/// at rest. Best effort, like pub-sub: a message to a node that is down is lost, and the
/// replicated data stays the truth that covers it.
/// </summary>
public sealed class Topics : ReceiveActor
{
    public const string Name = "topics";

    private readonly Cluster _cluster = Cluster.Get(Context.System);
    private readonly Dictionary<string, HashSet<IActorRef>> _subscribers = new(StringComparer.Ordinal);
    /// <summary>The topics actors of the other members, by address.</summary>
    private readonly Dictionary<Address, ActorSelection> _peers = [];

    public Topics()
    {
        Receive<Subscribe>(s =>
        {
            if (!_subscribers.TryGetValue(s.Topic, out var set)) _subscribers[s.Topic] = set = [];
            if (set.Add(s.Subscriber)) Context.Watch(s.Subscriber);
        });
        Receive<Terminated>(t =>
        {
            foreach (var set in _subscribers.Values) set.Remove(t.ActorRef);
        });
        Receive<Publish>(p =>
        {
            var message = new TopicMessage(p.Topic, p.Message);
            foreach (var peer in _peers.Values) peer.Tell(message, Self);
            Deliver(message);
        });
        Receive<TopicMessage>(Deliver);
        Receive<ClusterEvent.IMemberEvent>(e =>
        {
            if (e.Member.Address.Equals(_cluster.SelfAddress)) return;
            if (e is ClusterEvent.MemberRemoved) _peers.Remove(e.Member.Address);
            else if (!_peers.ContainsKey(e.Member.Address))
                _peers[e.Member.Address] = Context.ActorSelection(new RootActorPath(e.Member.Address) / "user" / Name);
        });
    }

    protected override void PreStart() =>
        _cluster.Subscribe(Self, ClusterEvent.SubscriptionInitialStateMode.InitialStateAsEvents, typeof(ClusterEvent.IMemberEvent));

    protected override void PostStop() => _cluster.Unsubscribe(Self);

    private void Deliver(TopicMessage message)
    {
        if (!_subscribers.TryGetValue(message.Topic, out var set)) return;
        foreach (var subscriber in set) subscriber.Tell(message.Message, ActorRefs.NoSender);
    }

    /// <summary>Delivers what is published on <paramref name="Topic"/> anywhere in the mesh to <paramref name="Subscriber"/>, until it stops.</summary>
    public sealed record Subscribe(string Topic, IActorRef Subscriber);

    /// <summary>Sends <paramref name="Message"/> to every subscriber of <paramref name="Topic"/> on every member, this node's included.</summary>
    public sealed record Publish(string Topic, object Message);

    public static Props Props() => Akka.Actor.Props.Create(() => new Topics());
}
