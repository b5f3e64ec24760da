using System.Collections.Immutable;
using Akka.Actor;
using Akka.Cluster.Tools.Client;
using Akka.Event;
using Mesh.Node.Converge;
using Mesh.Node.Replication;
using Mesh.Protocol.Wire;

namespace Mesh.Node.Attached;

/// <summary>
/// An attached host's link to the core (docs/SCALING.md): an Akka <c>ClusterClient</c> to the
/// receptionists of the core peers, through which it attaches at start and on every keep-alive
/// (<see cref="AttachHost"/>), and sends its reports and rollout steps to the peer it reached
/// (<see cref="PeerStore"/>). What the peer sends (<see cref="AttachedState"/>) goes to the actors
/// that follow the link: the converger gets the heads as <see cref="IndexHeads"/>, the rollouts
/// and steps as they are. The heads are kept on disk (<see cref="HeadsFile"/>), so a host that
/// starts while no peer answers enforces what it last knew, as a member does.
/// <para>
/// The link stands in for the node's <see cref="Topics"/>: a <see cref="Topics.Subscribe"/> makes
/// a follower, and a <see cref="Topics.Publish"/> is dropped, because the peer publishes what the
/// host's store sends it.
/// </para>
/// </summary>
public sealed class AttachedLink : ReceiveActor, IWithTimers
{
    public const string Name = "link";

    private readonly AttachedLinkSetup _setup;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly HashSet<IActorRef> _followers = [];
    private readonly Dictionary<string, RevisionRecord> _heads = new(StringComparer.Ordinal);
    /// <summary>This host's latest report per manifest: sent again to a peer that did not know the host.</summary>
    private readonly Dictionary<string, ApplyReport> _reports = new(StringComparer.Ordinal);
    private IActorRef _client = ActorRefs.Nobody;

    public ITimerScheduler Timers { get; set; } = null!;

    public AttachedLink(AttachedLinkSetup setup)
    {
        _setup = setup;
        foreach (var head in setup.Heads.Load()) _heads[head.Manifest] = head;

        Receive<Follow>(f => AddFollower(f.Subscriber));
        Receive<Topics.Subscribe>(s => AddFollower(s.Subscriber));
        Receive<Topics.Publish>(_ => { });
        Receive<Terminated>(t => _followers.Remove(t.ActorRef));
        Receive<KeepAlive>(_ => Attach());
        Receive<AttachedState>(OnState);
        Receive<AttachRefused>(refused =>
        {
            _setup.Status.Refuse($"refused by core peer {refused.Peer}: {refused.Reason}");
            _log.Error("refused by core peer {0}: {1}", refused.Peer, refused.Reason);
            Context.System.Terminate();
        });
        Receive<ApplyReport>(report =>
        {
            _reports[report.Manifest] = report;
            Send(report);
        });
        Receive<AttachedReportRemoved>(removed =>
        {
            _reports.Remove(removed.Manifest);
            Send(removed);
        });
        Receive<RolloutStep>(Send);
    }

    protected override void PreStart()
    {
        var contacts = _setup.Contacts.Select(c => ActorPath.Parse(c + "/system/receptionist")).ToImmutableHashSet();
        _client = Context.ActorOf(ClusterClient.Props(ClusterClientSettings.Create(Context.System).WithInitialContacts(contacts)), "client");
        Attach();
        Timers.StartPeriodicTimer("keep-alive", KeepAlive.Instance, _setup.KeepAlive);
    }

    private void AddFollower(IActorRef follower)
    {
        if (!_followers.Add(follower)) return;
        Context.Watch(follower);
        if (_heads.Count > 0) follower.Tell(new IndexHeads(_heads.Values.ToArray()));
    }

    private void Attach() =>
        Send(new AttachHost(_setup.Name, _setup.Identity, _setup.Address, AttachedState.DigestOf(_heads.Values), _setup.Relays));

    private void Send(object message) => _client.Tell(new ClusterClient.Send(AttachedHosts.Path, message, localAffinity: true));

    private void OnState(AttachedState state)
    {
        if (_setup.Status.Attach(state.Peer, state.PeerAddress) is { } previous)
            _log.Info(previous.Length == 0 ? "attached to core peer {0} ({1})" : "attached to core peer {0} ({1}), was {2}", state.Peer, state.PeerAddress, previous);
        if (state.Relays is { Count: > 0 } relays) _setup.Status.Relay(relays);
        var news = new List<RevisionRecord>();
        foreach (var head in state.Heads)
        {
            if (_heads.TryGetValue(head.Manifest, out var known) && Replicated.Rank(known) >= Replicated.Rank(head)) continue;
            _heads[head.Manifest] = head;
            news.Add(head);
        }
        if (news.Count > 0)
        {
            _setup.Heads.Save(_heads.Values);
            foreach (var follower in _followers) follower.Tell(new IndexHeads(news));
        }
        foreach (var follower in _followers)
        {
            foreach (var rollout in state.Rollouts) follower.Tell(rollout);
            foreach (var step in state.Steps) follower.Tell(step);
        }
        // The whole state: the peer did not know this host (it is new there, or it lost the host), so it may lack its reports too.
        if (state.Complete)
            foreach (var report in _reports.Values) Send(report);
    }

    private sealed class KeepAlive
    {
        public static readonly KeepAlive Instance = new();
    }

    /// <summary>Sends the heads the link knows now, and every change after, to <paramref name="Subscriber"/>.</summary>
    public sealed record Follow(IActorRef Subscriber);

    public static Props Props(AttachedLinkSetup setup) => Akka.Actor.Props.Create(() => new AttachedLink(setup));
}

/// <param name="Contacts">the core peers' addresses (<c>akka.tcp://mesh@HOST:PORT</c>)</param>
/// <param name="Identity">this host's identity, encoded as a member's roles are</param>
/// <param name="Address">this host's own remoting address</param>
/// <param name="Relays">this host serves bodies to other hosts (it runs a content server at an address they reach)</param>
public sealed record AttachedLinkSetup(string Name, string[] Identity, string Address, string[] Contacts, TimeSpan KeepAlive, HeadsFile Heads, AttachedStatus Status,
    bool Relays = false);
