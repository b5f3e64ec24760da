using Akka.Actor;
using Akka.Cluster;
using Akka.Event;
using Akka.Remote;
using Mesh.Protocol.Wire;

namespace Mesh.Node.Membership;

/// <summary>
/// Answers other nodes' <see cref="JoinProbe"/>s with this node's member status, and, until
/// this node has joined, asks every node it joins through the same every seed-node-timeout:
/// <see cref="SeedAnswers"/> keeps what each answered since when (<c>mesh status</c>, the log),
/// and when it says so this node forms the mesh again by joining itself. Akka's own join keeps
/// asking every seed meanwhile; this only watches it, and breaks the one deadlock it cannot:
/// every member downed, each waiting for another to be a mesh.
/// </summary>
public sealed class SeedProbe : ReceiveActor, IWithTimers
{
    public const string Name = "seed-probe";

    private readonly string _name;
    private readonly SeedAnswers _answers;
    private readonly Cluster _cluster = Cluster.Get(Context.System);
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly TimeSpan _round;
    private readonly Dictionary<Address, DateTimeOffset> _resets = [];
    private readonly Dictionary<Address, (int Uid, DateTimeOffset At)> _answered = [];
    private readonly HashSet<UniqueAddress> _oldIncarnations = [];

    /// <summary>Rounds without an answer after which the asked node resets its connection to the asker (<see cref="ResetWhenUnheard"/>).</summary>
    public const int UnheardBeforeReset = 1;

    public ITimerScheduler Timers { get; set; } = null!;

    public SeedProbe(string name, SeedAnswers answers)
    {
        _name = name;
        _answers = answers;
        _round = _cluster.Settings.SeedNodeTimeout;
        Receive<JoinProbe>(probe =>
        {
            Sender.Tell(new JoinProbeAnswer(_name, SelfStatus()));
            RemoveOldIncarnation(probe, Sender.Path.Address);
            ResetWhenUnheard(probe, Sender.Path.Address);
        });
        Receive<Heard>(h =>
        {
            if (_answers.Heard(h.Seed, h.Status, DateTimeOffset.UtcNow) is { } line) _log.Info("{0}", line);
        });
        Receive<Round>(_ =>
        {
            if (SelfStatus() is not null)
            {
                _answers.Joined();
                Timers.CancelAll();
                return;
            }
            foreach (var line in _answers.RoundEnded(DateTimeOffset.UtcNow)) _log.Warning("{0}", line);
            if (_answers.ShouldForm())
            {
                _log.Warning("no node this one joins through is a member of a mesh, and those that answer are, with this one, a majority of the nodes it knows; " +
                    "this node has the lowest address among them and forms the mesh again (the others join it)");
                _answers.Joined();
                Timers.CancelAll();
                _cluster.Join(_cluster.SelfAddress);
                return;
            }
            foreach (var seed in _answers.Seeds) Probe(seed);
        });
    }

    protected override void PreStart()
    {
        if (_answers.Seeds.Count == 0) return;
        Self.Tell(Round.Instance);
        Timers.StartPeriodicTimer(nameof(Round), Round.Instance, _round);
    }

    /// <summary>This node's member status as it sees it, or null while it is no member.</summary>
    private string? SelfStatus() =>
        _cluster.State.Members.FirstOrDefault(m => m.UniqueAddress.Equals(_cluster.SelfUniqueAddress)) is { } me && me.Status != MemberStatus.Removed
            ? me.Status.ToString().ToLowerInvariant()
            : null;

    /// <summary>
    /// A node asking to join from the address of a member with another uid was started again
    /// there: the member's process is gone, since only one process listens on a port. Akka downs
    /// the old incarnation itself once the new one's Join arrives, but that needs the answers to
    /// the new one's InitJoin to get through, which an association still bound to the old
    /// incarnation can keep from happening for as long as the failure detector and the resolver
    /// take (~30 s). Quarantining the old uid drops that association; downing it and telling the
    /// cluster the old uid is quarantined (which marks it terminated, so the leader may remove a
    /// down member without waiting for the failure detector) lets the new incarnation in within
    /// seconds. Remoting publishes that event itself only while its connection to the address is
    /// still the old one's; once the new process answers there, it leaves it to us.
    /// </summary>
    private void RemoveOldIncarnation(JoinProbe probe, Address from)
    {
        if (probe.Incarnation == 0 || SelfStatus() is null) return;
        var old = _cluster.State.Members.FirstOrDefault(m => m.Address.Equals(from) && m.UniqueAddress.Uid != probe.Incarnation);
        // Down already (say by CrashWatch) is not enough: until the cluster counts it terminated,
        // the leader waits for the failure detector before it removes it, and the new one waits too.
        if (old is null || old.Status is MemberStatus.Exiting or MemberStatus.Removed || !_oldIncarnations.Add(old.UniqueAddress)) return;
        _log.Warning("{0} ({1}) was started again: its new incarnation asks to join while the old one is still a member; " +
            "removing the old one now so that the new one is let in", probe.From, from);
        ((IRemoteActorRefProvider)((ExtendedActorSystem)Context.System).Provider).Quarantine(old.Address, old.UniqueAddress.Uid);
        if (old.Status != MemberStatus.Down) _cluster.Down(old.Address);
        Context.System.EventStream.Publish(new QuarantinedEvent(old.Address, old.UniqueAddress.Uid));
    }

    /// <summary>
    /// The asker has had no answer from this node for a whole round (<see cref="UnheardBeforeReset"/>),
    /// though this node answered it before then: its answers (and Akka's answers
    /// to the asker's join requests with them) are lost on the way back, on a connection that
    /// still points at something gone (seen after a restart on the same address: the answers
    /// never arrived, for minutes). Dropping this node's connections to that address without
    /// quarantining any uid (Akka stops the writer and gates the address for a moment) makes the
    /// next answer go out on a new connection. Once every two rounds at most, per address.
    /// </summary>
    private void ResetWhenUnheard(JoinProbe probe, Address from)
    {
        if (from.Host is null || from.Equals(_cluster.SelfAddress)) return;
        var now = DateTimeOffset.UtcNow;
        var quiet = _round * 2;
        foreach (var (address, at) in _answered.ToArray())
            if (now - at.At >= quiet) _answered.Remove(address);
        foreach (var (address, at) in _resets.ToArray())
            if (now - at >= quiet) _resets.Remove(address);
        // Lost only if this node answered the same incarnation a while before (a probe that never
        // reached this node, say while it was starting, is no sign of a broken way back).
        var same = _answered.TryGetValue(from, out var answered) && answered.Uid == probe.Incarnation;
        var answeredBefore = same && now - answered.At >= _round / 2;
        _answered[from] = (probe.Incarnation, same ? answered.At : now);
        if (probe.Unheard < UnheardBeforeReset || !answeredBefore || _resets.ContainsKey(from)) return;
        _resets[from] = now;
        _answered.Remove(from);
        _log.Warning("{0} ({1}) has heard no answer from this node for {2} rounds, though this node has been answering its probes: " +
            "the way back is broken; dropping this node's connections to it so that the next answer goes out on a new one", probe.From, from, probe.Unheard);
        ((IRemoteActorRefProvider)((ExtendedActorSystem)Context.System).Provider).Quarantine(from, null);
    }

    private void Probe(string seed)
    {
        var self = Self;
        Context.ActorSelection(new RootActorPath(Address.Parse(seed)) / "user" / Name)
            .Ask<JoinProbeAnswer>(new JoinProbe(_name, _cluster.SelfUniqueAddress.Uid, _answers.Unheard(seed)), _round)
            .ContinueWith(t => { if (t.IsCompletedSuccessfully) self.Tell(new Heard(seed, t.Result.Status)); }, TaskScheduler.Default);
    }

    private sealed record Heard(string Seed, string? Status);

    private sealed class Round
    {
        public static readonly Round Instance = new();
    }

    public static Props Props(string name, SeedAnswers answers) => Akka.Actor.Props.Create(() => new SeedProbe(name, answers));
}
