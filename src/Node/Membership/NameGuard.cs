using Akka.Actor;
using Akka.Cluster;
using Akka.Event;
using Mesh.Protocol.Wire;

namespace Mesh.Node.Membership;

/// <summary>Why this incarnation was refused (its name is another node's), or null; read by <see cref="NodeLifetime"/> once the node stopped.</summary>
public sealed class NameRefusal
{
    private volatile string? _reason;

    public string? Reason => _reason;

    internal void Refuse(string reason) => _reason ??= reason;
}

/// <summary>
/// Keeps a node name to one node (<see cref="NameClaims"/>), on both sides of a join. Before
/// joining, the node asks its seeds who holds its name: held by a reachable member at another
/// address, it does not join at all (nothing it wrote locally ever reaches the mesh), logs
/// why and stops; <see cref="NodeLifetime"/> exits 2. The seed that answered logs the refusal.
/// Once joined, it watches the membership for a claim the seeds could not see (two newcomers
/// at once, a seed that had not joined yet): the younger of two members with one name is
/// downed by every member that sees it, and stops itself when it is this node.
/// </summary>
public sealed class NameGuard : ReceiveActor, IWithTimers
{
    public const string Name = "names";

    private readonly string _name;
    private readonly Address[] _seeds;
    private readonly NameRefusal _refusal;
    private readonly Cluster _cluster = Cluster.Get(Context.System);
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private static readonly TimeSpan SettleTime = TimeSpan.FromMilliseconds(500);
    private static readonly TimeSpan AliveTimeout = TimeSpan.FromSeconds(3);
    private readonly HashSet<UniqueAddress> _refused = [];
    private readonly HashSet<UniqueAddress> _checking = [];
    private int _unanswered;
    private bool _joined;

    public ITimerScheduler Timers { get; set; } = null!;

    /// <param name="seeds">the members to join through; none: this node seeds its own mesh</param>
    public NameGuard(string name, Address[] seeds, NameRefusal refusal)
    {
        _name = name;
        _seeds = seeds;
        _refusal = refusal;
        Receive<NameQuery>(Answer);
        Receive<NameHolder>(held =>
        {
            if (_joined) return;
            if (held.Holder is { } holder)
            {
                Refuse($"the name '{_name}' is already used by the member at {holder} (seed {Sender.Path.Address} says so); " +
                    "this node does not join: give it a name of its own (--name / mesh.name)");
                return;
            }
            // A seed that is up sees every member: its "free" will do; one that is not waits for the others' answers.
            if (held.Member || --_unanswered == 0) Join();
        });
        Receive<SeedsSilent>(_ => Join());
        // A change of membership comes as several events (members first, then reachability): look
        // once they have all arrived, at the state they add up to, or a holder that was killed
        // and is known to be unreachable would look reachable for a moment.
        Receive<ClusterEvent.IClusterDomainEvent>(_ =>
        {
            if (!Timers.IsTimerActive(nameof(Settled))) Timers.StartSingleTimer(nameof(Settled), Settled.Instance, SettleTime);
        });
        Receive<ClusterEvent.CurrentClusterState>(_ => Timers.StartSingleTimer(nameof(Settled), Settled.Instance, SettleTime));
        Receive<Settled>(_ => Evaluate());
        Receive<HolderChecked>(checkedHolder => checkedHolder.Then());
        Receive<NameTaken>(taken => RefuseSelf(taken.Holder));
        Receive<NameYielded>(yielded =>
            _log.Error("refused the member at {0}: its name '{1}' is already used by this node; it leaves", yielded.Address, yielded.Name));
    }

    protected override void PreStart()
    {
        _cluster.Subscribe(Self, ClusterEvent.SubscriptionInitialStateMode.InitialStateAsSnapshot,
            typeof(ClusterEvent.IMemberEvent), typeof(ClusterEvent.IReachabilityEvent));
        var self = _cluster.SelfAddress;
        var others = _seeds.Where(s => !s.Equals(self)).ToArray();
        _unanswered = others.Length;
        if (others.Length == 0)
        {
            Join();
            return;
        }
        foreach (var seed in others) Context.ActorSelection(new RootActorPath(seed) / "user" / Name).Tell(new NameQuery(_name, self.ToString()));
        // A seed that is down, or too old to answer, does not hold up the join: Akka's own join retries as usual.
        Timers.StartSingleTimer(nameof(SeedsSilent), SeedsSilent.Instance, _cluster.Settings.SeedNodeTimeout);
    }

    protected override void PostStop() => _cluster.Unsubscribe(Self);

    private void Join()
    {
        if (_joined || _refusal.Reason is not null) return;
        _joined = true;
        Timers.Cancel(nameof(SeedsSilent));
        // Joining in code rather than through seed-nodes lets a node on port 0 seed itself.
        if (_seeds.Length == 0) _cluster.Join(_cluster.SelfAddress);
        else _cluster.JoinSeedNodes(_seeds);
    }

    /// <summary>
    /// A node about to join asks: the seed answers from its own view of the members, once the
    /// holder it sees has answered too (alive), and logs a refusal.
    /// </summary>
    private void Answer(NameQuery query)
    {
        var asker = Address.Parse(query.Asker);
        var member = _cluster.SelfMember.Status == MemberStatus.Up;
        if (NameClaims.HolderFor(query.Name, asker, Claims()) is not { } holder)
        {
            Sender.Tell(new NameHolder(query.Name, null, member));
            return;
        }
        var replyTo = Sender;
        AliveAsync(holder.Address).PipeTo(Self, success: alive => new HolderChecked(alive, () =>
        {
            if (alive) _log.Error("refused a node at {0}: it asked to join as '{1}', the name of the member at {2}", asker, query.Name, holder.Address);
            replyTo.Tell(new NameHolder(query.Name, alive ? holder.Address.ToString() : null, member));
        }));
    }

    /// <summary>
    /// Whether the node at <paramref name="address"/> answers now. A process killed a moment
    /// ago is still a reachable member until the failure detector notices (seconds): it must
    /// not keep its name from its own restart at a new address.
    /// </summary>
    private Task<bool> AliveAsync(Address address) =>
        Context.ActorSelection(new RootActorPath(address) / "user" / Name).Ask<ActorIdentity>(new Identify(null), AliveTimeout)
            .ContinueWith(t => t.IsCompletedSuccessfully && t.Result.Subject is not null, TaskContinuationOptions.ExecuteSynchronously);

    private IEnumerable<NameClaims.Claim> Claims() =>
        NameClaims.Of(_cluster.State.Members, m => !_cluster.State.Unreachable.Contains(m)).Values;

    private void Evaluate()
    {
        if (_refusal.Reason is not null) return;
        var state = _cluster.State;
        var claims = NameClaims.Of(state.Members, m => !state.Unreachable.Contains(m));
        foreach (var member in state.Members.Where(NameClaims.Holds))
        {
            if (NameClaims.HolderOf(claims[member.UniqueAddress], claims.Values) is not { } holder) continue;
            if (!_checking.Add(member.UniqueAddress)) continue;
            var claimant = member;
            AliveAsync(holder.Address).PipeTo(Self, success: alive => new HolderChecked(alive, () =>
            {
                _checking.Remove(claimant.UniqueAddress);
                if (alive) Refuse(claimant, holder.Address);
                // A holder too busy to answer is asked again while the two are still both members; a dead one leaves the membership.
                else Timers.StartSingleTimer(nameof(Settled), Settled.Instance, AliveTimeout);
            }));
        }
    }

    private void Refuse(Member member, Address holder)
    {
        if (member.UniqueAddress.Equals(_cluster.SelfUniqueAddress))
        {
            // The holder logs the refusal too, though this node leaves before it could down it.
            if (_refusal.Reason is null) Context.ActorSelection(new RootActorPath(holder) / "user" / Name).Tell(new NameYielded(_name, _cluster.SelfAddress.ToString()));
            RefuseSelf(holder.ToString());
            return;
        }
        if (!_refused.Add(member.UniqueAddress)) return;
        var name = NodeRoles.Decode(member).Name;
        _log.Error("refused the member at {0}: its name '{1}' is already used by the member at {2}; downing it", member.Address, name, holder);
        Context.ActorSelection(new RootActorPath(member.Address) / "user" / Name).Tell(new NameTaken(name, holder.ToString()));
        _cluster.Down(member.Address);
    }

    private void RefuseSelf(string holder)
    {
        Refuse($"the name '{_name}' is already used by the member at {holder}, which joined first; " +
            "this node leaves: give it a name of its own (--name / mesh.name)");
    }

    private void Refuse(string reason)
    {
        if (_refusal.Reason is not null) return;
        _refusal.Refuse(reason);
        _log.Error("{0}", reason);
        CoordinatedShutdown.Get(Context.System).Run(NameTakenReason.Instance);
    }

    /// <summary>Why the node stopped: its name is another member's.</summary>
    public sealed class NameTakenReason : CoordinatedShutdown.Reason
    {
        public static readonly NameTakenReason Instance = new();

        public override int ExitCode => 2;
    }

    /// <summary>A holder's liveness, known: what to do with it, run on the actor's thread.</summary>
    private sealed record HolderChecked(bool Alive, Action Then);

    private sealed class Settled
    {
        public static readonly Settled Instance = new();
    }

    private sealed class SeedsSilent
    {
        public static readonly SeedsSilent Instance = new();
    }

    public static Props Props(string name, Address[] seeds, NameRefusal refusal) =>
        Akka.Actor.Props.Create(() => new NameGuard(name, seeds, refusal));
}
