using Akka.Actor;
using Akka.Cluster;
using Akka.DistributedData;
using Akka.Event;
using Mesh.Node.Content;
using Mesh.Node.Facts;
using Mesh.Node.Membership;
using Mesh.Node.Replication;
using Mesh.Protocol.Manifests;
using Mesh.Protocol.Wire;

namespace Mesh.Node.Attached;

/// <summary>
/// The core's side of attached hosts (docs/SCALING.md). On every member it keeps
/// <see cref="FleetView.Attached"/> equal to the replicated registry, so that targets, status and
/// rollouts select attached hosts beside the members. On a core peer (<c>mesh.attached.serve</c>)
/// it is also the service hosts reach through Akka's <c>ClusterClientReceptionist</c>:
/// <list type="bullet">
/// <item>a host that attaches (<see cref="AttachHost"/>) is recorded in the registry and gets the
/// heads of the index, the rollouts and their steps; a host that keeps alive gets them again
/// only when its digest of the heads differs from this peer's;</item>
/// <item>news (a head, a rollout, a step, from the replicated data or the topics) goes to every
/// host attached here, as it comes;</item>
/// <item>a host's reports and steps are written into the replicated state and published on the
/// topics as this peer's own would be: <c>mesh status</c> and <c>push --wait</c> see them anywhere;</item>
/// <item>a host silent for three keep-alives is forgotten, and the registry entries of peers that
/// left the cluster are dropped by whichever peer sees it first.</item>
/// </list>
/// Bodies do not pass through here: hosts pull them from the peers' content servers by remoting.
/// </summary>
public sealed class AttachedHosts : ReceiveActor, IWithTimers
{
    public const string Name = "attached";
    public const string Path = "/user/" + Name;

    private readonly AttachedHostsSetup _setup;
    private readonly Cluster _cluster = Cluster.Get(Context.System);
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly Dictionary<string, Host> _hosts = new(StringComparer.Ordinal);
    private readonly Dictionary<string, RevisionRecord> _heads = new(StringComparer.Ordinal);
    private readonly Dictionary<string, RolloutRecord> _rollouts = new(StringComparer.Ordinal);
    private readonly Dictionary<string, RolloutStep> _steps = new(StringComparer.Ordinal);
    private IReadOnlyDictionary<string, AttachedHostRecord> _registry = new Dictionary<string, AttachedHostRecord>();
    private string? _digest;

    public ITimerScheduler Timers { get; set; } = null!;

    public AttachedHosts(AttachedHostsSetup setup)
    {
        _setup = setup;
        Receive<Changed>(OnChanged);
        Receive<RevisionRecord>(r =>
        {
            if (TakeHead(r)) News(new AttachedState(_setup.Self, _setup.Address, [r], [], [], false));
        });
        Receive<RolloutRecord>(r =>
        {
            if (TakeRollout(r)) Tell(new AttachedState(_setup.Self, _setup.Address, [], [r], [], false));
        });
        Receive<RolloutStep>(OnStep);
        Receive<AttachHost>(OnAttach);
        Receive<ApplyReport>(report =>
        {
            if (!FromHost(report.Node)) return;
            _setup.Store.PutReport(report);
            _setup.Topics.Tell(new Topics.Publish(Replicated.ReportTopic, report));
        });
        Receive<AttachedReportRemoved>(removed =>
        {
            if (FromHost(removed.Node)) _setup.Store.RemoveReport(removed.Node, removed.Manifest);
        });
        Receive<Sweep>(_ => OnSweep());
    }

    protected override void PreStart()
    {
        _setup.Store.SubscribeToAttached(Self);
        if (!_setup.Serve) return;
        _setup.Store.SubscribeToIndex(Self);
        _setup.Store.SubscribeToRollouts(Self);
        _setup.Topics.Tell(new Topics.Subscribe(Replicated.ChangeTopic, Self));
        _setup.Topics.Tell(new Topics.Subscribe(Replicated.RolloutTopic, Self));
        Timers.StartPeriodicTimer("sweep", Sweep.Instance, _setup.KeepAlive);
    }

    private void OnChanged(Changed changed)
    {
        if (ReplicatedStore.AttachedHosts(changed) is { } registry)
        {
            _registry = registry;
            _setup.Fleet.Attached = registry.Values.OrderBy(h => h.Name, StringComparer.Ordinal).ToArray();
            return;
        }
        if (!_setup.Serve) return;
        var heads = ReplicatedStore.Revisions(changed).Where(TakeHead).ToArray();
        var rollouts = ReplicatedStore.Rollouts(changed).Where(TakeRollout).ToArray();
        var steps = ReplicatedStore.Steps(changed).Where(TakeStep).ToArray();
        if (heads.Length + rollouts.Length + steps.Length > 0) News(new AttachedState(_setup.Self, _setup.Address, heads, rollouts, steps, false));
    }

    private void OnStep(RolloutStep step)
    {
        // A host's own step, through its tunnel: this peer writes and publishes it for the host.
        if (_hosts.TryGetValue(step.Node, out var host) && host.Client.Equals(Sender))
        {
            _setup.Store.PutStep(step);
            _setup.Topics.Tell(new Topics.Publish(Replicated.RolloutTopic, step));
            return;
        }
        if (TakeStep(step)) Tell(new AttachedState(_setup.Self, _setup.Address, [], [], [step], false));
    }

    private void OnAttach(AttachHost attach)
    {
        if (!_setup.Serve) return;
        var now = DateTime.UtcNow;
        if (Members.Active(_cluster).Any(m => NodeRoles.Decode(m).Name == attach.Name))
        {
            Sender.Tell(new AttachRefused(_setup.Self, $"a member of the cluster is named '{attach.Name}': an attached host needs a name of its own (--name)"));
            return;
        }
        var known = _hosts.TryGetValue(attach.Name, out var host) && host.Client.Equals(Sender);
        if (!known) _log.Info("attached host {0} {1}", attach.Name, host is null ? "attached here" : "attached here again");
        _hosts[attach.Name] = new Host(attach.Name, attach.Identity, NodeRoles.Decode(attach.Identity, attach.Name), attach.Address, attach.Relays, Sender, now);
        // The registry names this peer: written when the host is new here, or the entry is missing or names another peer.
        if (!_registry.TryGetValue(attach.Name, out var entry) || entry.Peer != _setup.Self || entry.Address != attach.Address
            || !entry.Identity.SequenceEqual(attach.Identity))
            _setup.Store.PutAttached(new AttachedHostRecord(attach.Name, attach.Identity, attach.Address, _setup.Self, DateTimeOffset.UtcNow));
        _digest ??= AttachedState.DigestOf(_heads.Values);
        Sender.Tell(known && attach.Heads == _digest
            ? new AttachedState(_setup.Self, _setup.Address, [], [], [], false)
            : new AttachedState(_setup.Self, _setup.Address, _heads.Values.ToArray(), _rollouts.Values.ToArray(), _steps.Values.ToArray(), true));
    }

    private void OnSweep()
    {
        var silent = DateTime.UtcNow - 3 * _setup.KeepAlive;
        var gone = _hosts.Values.Where(h => h.Seen < silent).Select(h => h.Name).ToArray();
        foreach (var name in gone)
        {
            _hosts.Remove(name);
            _log.Info("attached host {0} silent for {1}: forgotten", name, 3 * _setup.KeepAlive);
        }
        // Dropped from the registry: hosts that left this peer, and hosts of peers that are no members any more.
        var peers = _cluster.State.Members.Where(m => m.Status is not (MemberStatus.Down or MemberStatus.Removed))
            .Select(m => NodeRoles.Decode(m).Name).ToHashSet(StringComparer.Ordinal);
        var stale = _registry.Values
            .Where(h => (h.Peer == _setup.Self && !_hosts.ContainsKey(h.Name)) || !peers.Contains(h.Peer))
            .Select(h => h.Name).ToArray();
        if (stale.Length > 0) _setup.Store.RemoveAttached(stale);
    }

    /// <summary>Whether a message naming <paramref name="node"/> came from that host, through its own tunnel to this peer.</summary>
    private bool FromHost(string node)
    {
        if (_hosts.TryGetValue(node, out var host) && host.Client.Equals(Sender)) return true;
        _log.Warning("a message for attached host {0} came from {1}, which is not that host's link here: ignored", node, Sender.Path);
        return false;
    }

    private void Tell(AttachedState news)
    {
        foreach (var host in _hosts.Values) host.Client.Tell(news);
    }

    /// <summary>
    /// New heads to the hosts, and their bodies on the way. This peer pulls each body at once
    /// (unless no host here may be targeted), so that its hosts pull from it rather than all from
    /// the pushing node. The targeted hosts that relay form a tree of <c>mesh.content.hold-fan-out</c>
    /// per host under this peer, as the members holding a push do (<see cref="ContentHolders.SourceOf"/>):
    /// each is told, with the head, the host above it, and pulls from it first while that host
    /// pulls the same body. So this peer sends a body a few times, not once per host. A host asks
    /// its first source to wait for that source's own pull (<c>FetchChunk.Expected</c>).
    /// </summary>
    private void News(AttachedState news)
    {
        var relays = new Dictionary<string, Dictionary<string, string>>(StringComparer.Ordinal);
        foreach (var head in news.Heads.Where(h => !h.Deleted))
        {
            var targeted = _hosts.Values.Where(host => Targets(head, host)).ToArray();
            if (targeted.Length == 0) continue;
            _setup.Loader.LoadAsync(head, $"{head.Manifest}@{head.Version}").ContinueWith(
                t => _log.Info("{0} {1}: body not pulled for the attached hosts ({2}); they pull it from the others", head.Manifest, head.Version,
                    t.Exception?.GetBaseException().Message), TaskContinuationOptions.OnlyOnFaulted);
            // A target that reads facts is decided on each host: the tree would hang hosts under ones that never pull.
            if (head.Target.ReadsFacts) continue;
            var tree = targeted.Where(h => h.Relays).OrderBy(h => h.Name, StringComparer.Ordinal).ToArray();
            for (var i = 0; i < tree.Length; i++)
                if (ContentHolders.SourceOf(i, _setup.RelayFanOut) is { } above)
                {
                    if (!relays.TryGetValue(tree[i].Name, out var mine)) relays[tree[i].Name] = mine = new Dictionary<string, string>(StringComparer.Ordinal);
                    mine[head.Hash] = tree[above].Address;
                }
        }
        foreach (var host in _hosts.Values)
            host.Client.Tell(relays.TryGetValue(host.Name, out var mine) ? news with { Relays = mine } : news);
    }

    /// <summary>Whether a head may target a host: a target that reads facts is matched on the host alone.</summary>
    private static bool Targets(RevisionRecord head, Host host) =>
        head.Target.ReadsFacts || head.Target.Matches(host.Decoded, null);

    private bool TakeHead(RevisionRecord record)
    {
        if (_heads.TryGetValue(record.Manifest, out var known) && Replicated.Rank(known) >= Replicated.Rank(record)) return false;
        _heads[record.Manifest] = record;
        _digest = null;
        return true;
    }

    private bool TakeRollout(RolloutRecord record)
    {
        if (_rollouts.TryGetValue(record.Manifest, out var known) && known.Updated.CompareTo(record.Updated) >= 0) return false;
        _rollouts[record.Manifest] = record;
        return true;
    }

    private bool TakeStep(RolloutStep step)
    {
        var entry = Replicated.StepEntry(step);
        if (_steps.TryGetValue(entry, out var known) && known == step) return false;
        _steps[entry] = step;
        return true;
    }

    /// <param name="Identity">as the host sent it (and the registry holds it)</param>
    /// <param name="Decoded">the same, as targets match it: decoded once, not for every head and host</param>
    private sealed record Host(string Name, string[] Identity, NodeIdentity Decoded, string Address, bool Relays, IActorRef Client, DateTime Seen);

    private sealed class Sweep
    {
        public static readonly Sweep Instance = new();
    }

    public static Props Props(AttachedHostsSetup setup) => Akka.Actor.Props.Create(() => new AttachedHosts(setup));
}

/// <param name="Self">this member's name, as hosts and the registry know it</param>
/// <param name="Address">this member's cluster address, which hosts pull bodies from</param>
/// <param name="Serve">this member serves attached hosts (a core peer); otherwise it only follows the registry</param>
/// <param name="RelayFanOut">hosts per host in a body's relay tree (<c>mesh.content.hold-fan-out</c>)</param>
public sealed record AttachedHostsSetup(string Self, string Address, ReplicatedStore Store, RevisionLoader Loader, IActorRef Topics, FleetView Fleet,
    bool Serve, TimeSpan KeepAlive, int RelayFanOut = ContentHolders.DefaultFanOut);
