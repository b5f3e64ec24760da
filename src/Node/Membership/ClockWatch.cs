using Akka.Actor;
using Akka.Cluster;
using Akka.Event;
using Mesh.Protocol.Wire;

namespace Mesh.Node.Membership;

/// <summary>
/// Reads the other members' clocks every <c>mesh.clock.probe-interval</c>, as NTP does: a probe
/// carries this node's time, the peer answers with its own, and the peer's offset is its time
/// minus the middle of the round trip (off by at most half the round trip; of a peer's last
/// readings the fastest counts, and an answer slower than max-skew is not used). Feeds <see cref="ClockOffsets"/>, answers the peers' probes, and
/// logs a clock that goes off (or comes back) and a correction this node starts (or ends).
/// </summary>
public sealed class ClockWatch : ReceiveActor, IWithTimers
{
    public const string Name = "clock";

    private readonly ClockOffsets _offsets;
    private readonly Cluster _cluster = Cluster.Get(Context.System);
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly HashSet<string> _warned = new(StringComparer.Ordinal);
    private readonly TimeSpan _interval;
    private long _correction;

    public ITimerScheduler Timers { get; set; } = null!;

    public ClockWatch(ClockOffsets offsets, TimeSpan interval)
    {
        _offsets = offsets;
        Receive<Tick>(_ =>
        {
            var self = _cluster.SelfAddress;
            foreach (var member in _cluster.State.Members.Where(m => m.Status is MemberStatus.Up or MemberStatus.WeaklyUp && !m.Address.Equals(self)))
                Context.ActorSelection(new RootActorPath(member.Address) / "user" / Name).Tell(new ClockProbe(_offsets.RawNow()));
        });
        Receive<ClockProbe>(probe => Sender.Tell(new ClockReading(probe.SentMs, _offsets.RawNow(), _offsets.CorrectionMs)));
        Receive<ClockReading>(reading =>
        {
            var now = _offsets.RawNow();
            var roundTrip = now - reading.SentMs;
            if (roundTrip < 0 || roundTrip > _offsets.MaxSkewMs) return;
            var peer = Sender.Path.Address;
            if (_cluster.State.Members.FirstOrDefault(m => m.Address.Equals(peer)) is not { } member) return;
            _offsets.Observe(peer, NodeRoles.Decode(member).Name, reading.WallMs - (reading.SentMs + roundTrip / 2), roundTrip, reading.CorrectionMs != 0);
            Report();
        });
        Receive<ClusterEvent.MemberRemoved>(removed =>
        {
            _offsets.Forget(removed.Member.Address);
            Report();
        });
        _interval = interval;
    }

    protected override void PreStart()
    {
        _cluster.Subscribe(Self, ClusterEvent.SubscriptionInitialStateMode.InitialStateAsEvents, typeof(ClusterEvent.MemberRemoved));
        Timers.StartPeriodicTimer(nameof(Tick), Tick.Instance, TimeSpan.FromMilliseconds(100), _interval);
    }

    protected override void PostStop() => _cluster.Unsubscribe(Self);

    /// <summary>One line when a clock goes off or this node's correction starts, one when it is back; none while nothing changes.</summary>
    private void Report()
    {
        var skews = _offsets.Skews();
        var correction = _offsets.CorrectionMs;
        if (correction != 0 && _correction == 0) _log.Warning("{0}", skews.First(s => s.Self).Describe());
        else if (correction == 0 && _correction != 0) _log.Info("this node's clock agrees with the mesh's again; it stamps its versions with its own clock");
        _correction = correction;
        var off = skews.Where(s => !s.Self).ToArray();
        foreach (var skew in off.Where(s => _warned.Add(s.Node))) _log.Warning("{0}", skew.Describe());
        foreach (var back in _warned.Except(off.Select(s => s.Node)).ToArray())
        {
            _warned.Remove(back);
            _log.Info("node {0}'s clock agrees with the mesh's again (within {1} s)", back, _offsets.MaxSkewMs / 1000);
        }
    }

    private sealed class Tick
    {
        public static readonly Tick Instance = new();
    }

    public static Props Props(ClockOffsets offsets, TimeSpan interval) => Akka.Actor.Props.Create(() => new ClockWatch(offsets, interval));
}
