using System.Diagnostics;
using Akka.Actor;
using Akka.Cluster;
using Akka.DistributedData;
using Akka.Event;
using Mesh.Node.Content;
using Mesh.Node.Providers;
using Mesh.Node.Replication;
using Mesh.Protocol.Manifests;
using Mesh.Protocol.Versioning;
using Mesh.Protocol.Wire;
using PubSub = Akka.Cluster.Tools.PublishSubscribe;

namespace Mesh.Node.Converge;

/// <summary>
/// Brings this node to the head revision of every manifest that targets it. Learns of
/// revisions from the change topic (fast) and from the replicated index (sure), pulls each
/// body by hash, applies it, and reports the result to the status map and the report topic.
/// One apply at a time, so two revisions of a manifest never race on the host.
/// </summary>
public sealed class Converger : ReceiveActor, IWithTimers
{
    public const string Name = "converger";

    private readonly ConvergerSetup _setup;
    private readonly Cluster _cluster = Cluster.Get(Context.System);
    private readonly IActorRef _replicator = DistributedData.Get(Context.System).Replicator;
    private readonly IActorRef _mediator = PubSub.DistributedPubSub.Get(Context.System).Mediator;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly Dictionary<string, RevisionRecord> _heads = new(StringComparer.Ordinal);
    private readonly Dictionary<string, HybridTimestamp> _done = new(StringComparer.Ordinal);
    private readonly Dictionary<string, DateTime> _backoff = new(StringComparer.Ordinal);
    private bool _busy;

    public ITimerScheduler Timers { get; set; } = null!;

    public Converger(ConvergerSetup setup)
    {
        _setup = setup;

        Receive<Changed>(c => c.Key is LWWDictionaryKey<string, RevisionRecord>, c =>
        {
            foreach (var record in c.Get((LWWDictionaryKey<string, RevisionRecord>)c.Key).Entries.Values) Consider(record);
        });
        Receive<RevisionRecord>(Consider);
        Receive<Applied>(OnApplied);
        Receive<Retry>(_ => Kick());
        Receive<PubSub.SubscribeAck>(_ => { });
    }

    protected override void PreStart()
    {
        foreach (var shard in Replicated.Index) _replicator.Tell(new Subscribe(shard, Self));
        if (_setup.Announce) _mediator.Tell(new PubSub.Subscribe(Replicated.ChangeTopic, Self));
    }

    private void Consider(RevisionRecord record)
    {
        _setup.Clock.Observe(record.Version);
        if (_heads.TryGetValue(record.Manifest, out var known) && known.Version.CompareTo(record.Version) >= 0) return;
        _heads[record.Manifest] = record;
        Kick();
    }

    /// <summary>Starts the next pending apply, if nothing is running.</summary>
    private void Kick()
    {
        if (_busy) return;
        var next = _heads.Values
            .Where(r => r.Target.Matches(_setup.Identity))
            .Where(r => !_done.TryGetValue(r.Manifest, out var v) || v.CompareTo(r.Version) < 0)
            .Where(r => !_backoff.TryGetValue(r.Manifest, out var until) || until <= DateTime.UtcNow)
            .OrderBy(r => r.Version)
            .FirstOrDefault();
        if (next is null) return;

        _busy = true;
        var peers = Peers(next);
        var setup = _setup;
        Task.Run(() => Converge(setup, next, peers)).PipeTo(Self);
    }

    private static async Task<Applied> Converge(ConvergerSetup setup, RevisionRecord revision, IReadOnlyList<Address> peers)
    {
        var clock = Stopwatch.StartNew();
        byte[] body;
        try
        {
            body = await setup.Fetcher.FetchAsync(revision.Hash, peers);
        }
        catch (BlobUnavailableException e)
        {
            return new Applied(revision, ApplyEngine.Failure(setup.Identity.Name, revision, e.Message, clock.ElapsedMilliseconds), Retry: true);
        }

        try
        {
            var manifest = CanonicalForm.FromBytes(body, $"{revision.Manifest}@{revision.Version}");
            var report = setup.Engine.Apply(setup.Identity.Name, revision, manifest, new ApplyContext(setup.Root));
            return new Applied(revision, report, Retry: false);
        }
        catch (Exception e)
        {
            return new Applied(revision, ApplyEngine.Failure(setup.Identity.Name, revision, e.Message, clock.ElapsedMilliseconds), Retry: false);
        }
    }

    private void OnApplied(Applied applied)
    {
        _busy = false;
        var report = applied.Report.Compact();
        if (applied.Retry)
        {
            // No peer could give us the body yet (say, the origin is restarting): try again later,
            // and meanwhile go on with other manifests.
            _backoff[applied.Revision.Manifest] = DateTime.UtcNow + _setup.RetryInterval;
            Timers.StartSingleTimer(applied.Revision.Manifest, Retry.Instance, _setup.RetryInterval);
        }
        else
        {
            _backoff.Remove(applied.Revision.Manifest);
            _done[applied.Revision.Manifest] = applied.Revision.Version;
        }

        if (report.Succeeded)
            _log.Info("{0} {1}: ok, {2} changed in {3} ms", report.Manifest, report.Version, report.Changed, report.DurationMs);
        else
            _log.Warning("{0} {1}: failed: {2}", report.Manifest, report.Version, report.Error);

        _replicator.Tell(Dsl.Update(Replicated.StatusOf(report.Node), LWWDictionary<string, ApplyReport>.Empty, WriteLocal.Instance,
            d => d.SetItem(_cluster.SelfUniqueAddress, report.Manifest, report, Replicated.ReportClock)));
        _mediator.Tell(new PubSub.Publish(Replicated.ReportTopic, report));
        Kick();
    }

    /// <summary>The origin first (it surely has the body), then every other member in random order.</summary>
    private List<Address> Peers(RevisionRecord revision)
    {
        var self = _cluster.SelfAddress;
        var members = _cluster.State.Members
            .Where(m => m.Status is not (MemberStatus.Down or MemberStatus.Removed) && !m.Address.Equals(self))
            .Select(m => m.Address)
            .OrderBy(_ => Random.Shared.Next())
            .ToList();
        var origin = members.FindIndex(a => a.ToString() == revision.OriginAddress);
        if (origin > 0) (members[0], members[origin]) = (members[origin], members[0]);
        return members;
    }

    private sealed record Applied(RevisionRecord Revision, ApplyReport Report, bool Retry);

    private sealed class Retry
    {
        public static readonly Retry Instance = new();
    }

    public static Props Props(ConvergerSetup setup) => Akka.Actor.Props.Create(() => new Converger(setup));
}

/// <summary>What a converger needs from the node it runs in.</summary>
public sealed record ConvergerSetup(
    Mesh.Protocol.Manifests.NodeIdentity Identity,
    string Root,
    ContentFetcher Fetcher,
    ApplyEngine Engine,
    HybridClock Clock,
    bool Announce,
    TimeSpan RetryInterval);
