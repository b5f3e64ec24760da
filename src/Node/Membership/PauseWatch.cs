using System.Diagnostics;
using Akka.Actor;
using Akka.Cluster;
using Akka.Event;
using Akka.Remote;

namespace Mesh.Node.Membership;

/// <summary>
/// Notices that this process was paused (a frozen VM, SIGSTOP, a host that slept) for longer
/// than the others wait before removing it (their failure detector's acceptable pause, then the
/// split-brain resolver's stable-after): the other members have most likely removed this node
/// by then, while this node's own view is still from before the pause.
/// Left alone, its resolver would wake to find everyone else unreachable and could down them
/// all, leaving it as an island of one that never merges back. So it stops its actor system
/// instead; <see cref="NodeLifetime"/> starts a new incarnation that rejoins through the
/// members it knew (never through itself), and the durable store brings its state along.
/// It does the same when a member says so outright: remoting tells this node that a member
/// has quarantined it (<see cref="ThisActorSystemQuarantinedEvent"/>, which a member does to a
/// node it removed), after a pause just short of the limit or a cut link. No message passes
/// between the two again while this incarnation lives, so waiting could only end in an island.
/// </summary>
public sealed class PauseWatch : ReceiveActor, IWithTimers
{
    public const string Name = "pause-watch";

    /// <summary>A quarter of the limit, between 1 and 5 s: fine enough to tell a pause from the limit, rare enough to cost nothing at rest.</summary>
    private readonly TimeSpan _tick;

    private readonly TimeSpan _limit;
    private readonly Cluster _cluster = Cluster.Get(Context.System);
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private TimeSpan _last;
    private bool _restarting;

    public ITimerScheduler Timers { get; set; } = null!;

    /// <param name="limit">a pause longer than this ends the incarnation (<see cref="Limit"/>)</param>
    public PauseWatch(TimeSpan limit)
    {
        _limit = limit;
        _tick = TimeSpan.FromTicks(Math.Clamp(limit.Ticks / 4, TimeSpan.FromSeconds(1).Ticks, TimeSpan.FromSeconds(5).Ticks));
        Receive<Check>(_ =>
        {
            var now = _clock.Elapsed;
            var gap = now - _last;
            _last = now;
            // A node alone has no one who could have removed it: nothing to rejoin.
            if (gap <= _limit + _tick || !_cluster.State.Members.Any(m => !m.UniqueAddress.Equals(_cluster.SelfUniqueAddress))) return;
            _log.Warning("this node was paused for {0:0.0} s, longer than the others wait before removing it ({1:0.0} s): they have likely removed it; " +
                "starting again to rejoin them rather than acting on a stale view", gap.TotalSeconds, _limit.TotalSeconds);
            _restarting = true;
            Timers.CancelAll();
            CoordinatedShutdown.Get(Context.System).Run(PausedReason.Instance);
        });
        Receive<ThisActorSystemQuarantinedEvent>(quarantined =>
        {
            // Only a member's word counts: a node of another mesh (or a refused TLS peer) has no say in this one.
            var by = _cluster.State.Members.FirstOrDefault(m => m.Address.Equals(quarantined.RemoteAddress) && !m.UniqueAddress.Equals(_cluster.SelfUniqueAddress));
            if (by is null || _restarting) return;
            _restarting = true;
            _log.Warning("the member {0} has quarantined this node (it removed it; the two will not speak again while this incarnation lives): " +
                "starting again to rejoin the mesh", by.Address);
            Timers.CancelAll();
            CoordinatedShutdown.Get(Context.System).Run(QuarantinedReason.Instance);
        });
    }

    protected override void PreStart()
    {
        _last = _clock.Elapsed;
        Timers.StartPeriodicTimer("tick", Check.Instance, _tick);
        Context.System.EventStream.Subscribe(Self, typeof(ThisActorSystemQuarantinedEvent));
    }

    protected override void PostStop() => Context.System.EventStream.Unsubscribe(Self);

    public static Props Props(TimeSpan limit) => Akka.Actor.Props.Create(() => new PauseWatch(limit));

    /// <summary>
    /// The shortest silence after which the others may have removed this node: they mark it
    /// unreachable once it has been silent for longer than their failure detector's acceptable
    /// pause, and the resolver downs it once that has held for stable-after. A shorter pause
    /// cannot have cost the node its membership, so it must not cost it a restart either.
    /// </summary>
    public static TimeSpan Limit(Akka.Configuration.Config config) =>
        config.GetTimeSpan("akka.cluster.failure-detector.acceptable-heartbeat-pause", TimeSpan.FromSeconds(3))
        + config.GetTimeSpan("akka.cluster.split-brain-resolver.stable-after", TimeSpan.FromSeconds(20));

    private sealed class Check
    {
        public static readonly Check Instance = new();
    }

    /// <summary>Why the node stopped its actor system: a member quarantined it.</summary>
    public sealed class QuarantinedReason : CoordinatedShutdown.Reason
    {
        public static readonly QuarantinedReason Instance = new();

        public override int ExitCode => 0;
    }

    /// <summary>Why the node stopped its actor system: it was paused past the resolver's patience.</summary>
    public sealed class PausedReason : CoordinatedShutdown.Reason
    {
        public static readonly PausedReason Instance = new();

        public override int ExitCode => 0;
    }
}
