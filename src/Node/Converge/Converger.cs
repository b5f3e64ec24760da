using System.Diagnostics;
using Akka.Actor;
using Akka.Cluster;
using Akka.DistributedData;
using Akka.Event;
using Mesh.Node.Audit;
using Mesh.Node.Content;
using Mesh.Node.Providers;
using Mesh.Node.Replication;
using Mesh.Protocol.Manifests;
using Mesh.Protocol.Signing;
using Mesh.Protocol.Versioning;
using Mesh.Protocol.Wire;
using PubSub = Akka.Cluster.Tools.PublishSubscribe;

namespace Mesh.Node.Converge;

/// <summary>
/// Brings this node to the head revision of every manifest that targets it, and keeps it
/// there. Learns of revisions from the change topic (fast) and from the replicated index
/// (sure), pulls each body by hash, applies it, and reports to the status map and the report
/// topic. Then it enforces: every manifest is re-checked on an interval (with jitter, so a
/// fleet does not act in lockstep), on demand, and whenever a managed path is touched; a
/// re-check that had to change something is reported as drift. One piece of work at a time,
/// so two revisions or a revision and a re-check never race on the host.
/// </summary>
public sealed class Converger : ReceiveActor, IWithTimers
{
    public const string Name = "converger";
    public const string Path = "/user/" + Name;

    private static readonly TimeSpan WatchDebounce = TimeSpan.FromMilliseconds(100);

    private readonly ConvergerSetup _setup;
    private readonly Cluster _cluster = Cluster.Get(Context.System);
    private readonly IActorRef _replicator = DistributedData.Get(Context.System).Replicator;
    private readonly IActorRef _mediator = PubSub.DistributedPubSub.Get(Context.System).Mediator;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly Dictionary<string, RevisionRecord> _heads = new(StringComparer.Ordinal);
    private readonly Dictionary<string, HybridTimestamp> _done = new(StringComparer.Ordinal);
    private readonly Dictionary<string, DateTime> _backoff = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Enforced> _enforced = new(StringComparer.Ordinal);
    /// <summary>Manifests whose head this node rejected while it enforced nothing of them: the newest trusted revision to enforce instead.</summary>
    private readonly Dictionary<string, RevisionRecord> _fallback = new(StringComparer.Ordinal);
    private readonly HashSet<string> _recheck = new(StringComparer.Ordinal);
    private readonly ManagedPathWatcher? _watcher;
    private bool _busy;

    public ITimerScheduler Timers { get; set; } = null!;

    public Converger(ConvergerSetup setup)
    {
        _setup = setup;
        if (setup.WatchPaths)
        {
            var self = Self;
            _watcher = new ManagedPathWatcher(manifest => self.Tell(new PathTouched(manifest)));
        }

        Receive<Changed>(c => c.Key is LWWDictionaryKey<string, RevisionRecord>, c =>
        {
            foreach (var record in c.Get((LWWDictionaryKey<string, RevisionRecord>)c.Key).Entries.Values) Consider(record, fromIndex: true);
        });
        Receive<RevisionRecord>(r => Consider(r, fromIndex: false));
        Receive<Applied>(OnApplied);
        Receive<TrustedHistory>(OnTrustedHistory);
        Receive<Rechecked>(OnRechecked);
        Receive<Retry>(_ => Kick());
        Receive<ConvergeNow>(_ =>
        {
            RecheckAll();
            Sender.Tell(new ConvergeAccepted(_setup.Identity.Name, _enforced.Count));
        });
        Receive<IntervalElapsed>(_ =>
        {
            RecheckAll();
            ArmInterval();
        });
        Receive<PathTouched>(t => Timers.StartSingleTimer("watch:" + t.Manifest, new RecheckOne(t.Manifest), WatchDebounce));
        Receive<RecheckOne>(r =>
        {
            _recheck.Add(r.Manifest);
            Kick();
        });
        Receive<PubSub.SubscribeAck>(_ => { });
    }

    protected override void PreStart()
    {
        foreach (var shard in Replicated.Index) _replicator.Tell(new Subscribe(shard, Self));
        if (_setup.Announce) _mediator.Tell(new PubSub.Subscribe(Replicated.ChangeTopic, Self));
        ArmInterval();
    }

    protected override void PostStop() => _watcher?.Dispose();

    private void ArmInterval()
    {
        var jitter = 1 + _setup.RecheckJitter * (2 * Random.Shared.NextDouble() - 1);
        Timers.StartSingleTimer("interval", IntervalElapsed.Instance, _setup.RecheckInterval * jitter);
    }

    private void RecheckAll()
    {
        _recheck.UnionWith(_enforced.Keys);
        Kick();
    }

    private void Consider(RevisionRecord record, bool fromIndex)
    {
        _setup.Clock.Observe(record.Version);
        if (_heads.TryGetValue(record.Manifest, out var known) && !Replaces(record, known, fromIndex)) return;
        _heads[record.Manifest] = record;
        _fallback.Remove(record.Manifest);
        if (record.Target.Matches(_setup.Identity))
            _setup.Audit.Write("received", record.Manifest, record.Version.ToString(), record.Author, $"from {record.Origin}: {record.Message}");
        Kick();
    }

    /// <summary>
    /// The index orders heads by wall time and counter only (<see cref="Replicated.RevisionClock"/>)
    /// and breaks a tie on both (two nodes, one millisecond) by the writer's incarnation, not by
    /// node name. On such a tie the index's choice stands, and an announcement never overrides
    /// it, so every node ends on the head the index holds everywhere.
    /// </summary>
    private static bool Replaces(RevisionRecord candidate, RevisionRecord known, bool fromIndex)
    {
        var order = candidate.Version.Packed.CompareTo(known.Version.Packed);
        return order > 0 || (order == 0 && fromIndex && !candidate.Version.Equals(known.Version));
    }

    /// <summary>Starts the next piece of work, if nothing is running: new revisions first, then re-checks.</summary>
    private void Kick()
    {
        if (_busy) return;
        var next = _heads.Values
            .Where(r => r.Target.Matches(_setup.Identity))
            .Where(r => !_done.TryGetValue(r.Manifest, out var v) || !v.Equals(r.Version))
            .Where(r => !_backoff.TryGetValue(r.Manifest, out var until) || until <= DateTime.UtcNow)
            .OrderBy(r => r.Version)
            .FirstOrDefault();
        var setup = _setup;
        if (next is not null && Refusal(next) is { } refusal)
        {
            // Never applied: the host stays as the last accepted revision left it, and keeps being enforced.
            _done[next.Manifest] = next.Version;
            _log.Warning("{0} {1}: rejected: {2}", next.Manifest, next.Version, refusal);
            Publish(new ApplyReport(_setup.Identity.Name, next.Manifest, next.Version, next.Hash, ApplyOutcome.Rejected, 0, [],
                $"rejected: {refusal}", 0, DateTimeOffset.UtcNow));
            // Nothing of it enforced here yet (the node just started): look for the newest trusted revision in history.
            if (!_enforced.ContainsKey(next.Manifest)) LookForTrusted(next);
            Kick();
            return;
        }
        if (next is { Deleted: true })
        {
            Stop(next);
            Kick();
            return;
        }
        if (next is not null)
        {
            StartApply(next, fallback: false);
            return;
        }

        if (_fallback.Values.FirstOrDefault(r => !_backoff.TryGetValue(r.Manifest, out var until) || until <= DateTime.UtcNow) is { } trusted)
        {
            StartApply(trusted, fallback: true);
            return;
        }

        // A manifest that no longer targets this node is no longer enforced (what it applied stays).
        foreach (var name in _enforced.Keys.Where(n => _heads.TryGetValue(n, out var h) && !h.Target.Matches(_setup.Identity)).ToArray())
            _enforced.Remove(name);
        var due = _recheck.Where(_enforced.ContainsKey).Select(n => _enforced[n]).ToArray();
        _recheck.Clear();
        if (due.Length == 0) return;
        _busy = true;
        var contexts = due.ToDictionary(e => e.Revision.Manifest, e => setup.Context with { ManagedElsewhere = ManagedPathsExcept(e.Revision.Manifest) });
        Task.Run(() => new Rechecked(due.Select(e => setup.Engine.Apply(setup.Identity.Name, e.Revision, e.Manifest, contexts[e.Revision.Manifest])).ToArray())).PipeTo(Self,
            failure: e => new Rechecked(due.Select(x => ApplyEngine.Failure(setup.Identity.Name, x.Revision, $"internal error: {e.GetBaseException().Message}", 0)).ToArray()));
    }

    /// <summary>Pulls and applies one revision off the actor's thread; the result comes back as <see cref="Applied"/>.</summary>
    private void StartApply(RevisionRecord revision, bool fallback)
    {
        _busy = true;
        var peers = Peers(revision);
        var setup = _setup with { Context = _setup.Context with { ManagedElsewhere = ManagedPathsExcept(revision.Manifest) } };
        Task.Run(() => Converge(setup, revision, peers)).PipeTo(Self, success: a => a with { Fallback = fallback },
            failure: e => new Applied(revision, null, ApplyEngine.Failure(setup.Identity.Name, revision, $"internal error: {e.GetBaseException().Message}", 0),
                Retry: true, Fallback: fallback));
    }

    /// <summary>Why this node must not apply a revision (its trust list), or null.</summary>
    private string? Refusal(RevisionRecord revision) => _setup.Trust.Refusal(revision.Signature, revision.SignedStatement());

    /// <summary>A tombstone: the manifest is no longer enforced here; what it applied stays on the host.</summary>
    private void Stop(RevisionRecord tombstone)
    {
        _done[tombstone.Manifest] = tombstone.Version;
        if (!_enforced.Remove(tombstone.Manifest)) return;
        _log.Info("{0} {1}: deleted by {2}; no longer enforced here", tombstone.Manifest, tombstone.Version, tombstone.Author);
        _setup.Audit.Write("deleted", tombstone.Manifest, tombstone.Version.ToString(), tombstone.Author, "no longer enforced; what it applied stays");
        _replicator.Tell(Dsl.Update(Replicated.StatusOf(_setup.Identity.Name), LWWDictionary<string, ApplyReport>.Empty, WriteLocal.Instance,
            d => d.Remove(_cluster.SelfUniqueAddress, tombstone.Manifest)));
        WatchManagedPaths();
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
            return new Applied(revision, null, ApplyEngine.Failure(setup.Identity.Name, revision, e.Message, clock.ElapsedMilliseconds), Retry: true);
        }

        Manifest manifest;
        try
        {
            manifest = CanonicalForm.FromBytes(body, $"{revision.Manifest}@{revision.Version}");
        }
        catch (ManifestException e)
        {
            return new Applied(revision, null, ApplyEngine.Failure(setup.Identity.Name, revision, e.Message, clock.ElapsedMilliseconds), Retry: false);
        }

        // File sources are blobs of their own: pull them all before touching the host.
        try
        {
            foreach (var hash in manifest.Resources.OfType<FileResource>().Select(f => f.SourceHash).OfType<string>().Distinct())
                await setup.Fetcher.FetchAsync(hash, peers);
        }
        catch (BlobUnavailableException e)
        {
            return new Applied(revision, null, ApplyEngine.Failure(setup.Identity.Name, revision, e.Message, clock.ElapsedMilliseconds), Retry: true);
        }
        return new Applied(revision, manifest, setup.Engine.Apply(setup.Identity.Name, revision, manifest, setup.Context), Retry: false);
    }

    private void OnApplied(Applied applied)
    {
        _busy = false;
        var name = applied.Revision.Manifest;
        if (applied.Fallback)
        {
            OnFallbackApplied(applied);
            return;
        }
        if (applied.Retry)
        {
            // No peer could give us the body yet (say, the origin is restarting): try again later,
            // and meanwhile go on with other manifests.
            _backoff[name] = DateTime.UtcNow + _setup.RetryInterval;
            Timers.StartSingleTimer(name, Retry.Instance, _setup.RetryInterval);
        }
        else
        {
            _backoff.Remove(name);
            _done[name] = applied.Revision.Version;
            if (applied.Manifest is not null)
            {
                _enforced[name] = new Enforced(applied.Revision, applied.Manifest, applied.Report.Outcome);
                WatchManagedPaths();
            }
        }
        Publish(applied.Report);
        Kick();
    }

    /// <summary>
    /// The newest trusted revision below a rejected head, applied in its place. Its report stays
    /// out of the status map (which keeps saying the head is rejected); the audit trail has it.
    /// </summary>
    private void OnFallbackApplied(Applied applied)
    {
        var name = applied.Revision.Manifest;
        if (applied.Retry)
        {
            _backoff[name] = DateTime.UtcNow + _setup.RetryInterval;
            Timers.StartSingleTimer(name, Retry.Instance, _setup.RetryInterval);
        }
        else
        {
            _backoff.Remove(name);
            _fallback.Remove(name);
            if (applied.Manifest is not null && !_enforced.ContainsKey(name))
            {
                _enforced[name] = new Enforced(applied.Revision, applied.Manifest, applied.Report.Outcome);
                WatchManagedPaths();
            }
            _log.Warning("{0}: the head is rejected here; enforcing {1}, the newest revision this node trusts ({2} changed)",
                name, applied.Revision.Version, applied.Report.Changed);
            _setup.Audit.Write("enforcing", name, applied.Revision.Version.ToString(), _setup.Identity.Name,
                $"the head is rejected; the newest trusted revision instead: {(applied.Report.Succeeded ? $"{applied.Report.Changed} changed" : applied.Report.Error)}");
        }
        Kick();
    }

    /// <summary>Asks this node's replica for the manifest's history, to find a trusted revision below <paramref name="rejected"/>.</summary>
    private void LookForTrusted(RevisionRecord rejected)
    {
        var key = Replicated.HistoryOf(rejected.Manifest);
        _replicator.Ask<IGetResponse>(Dsl.Get(key, ReadLocal.Instance), TimeSpan.FromSeconds(5)).PipeTo(Self,
            success: r => new TrustedHistory(rejected, r is GetSuccess g ? g.Get(key).Entries.Values.ToArray() : []),
            failure: _ => new TrustedHistory(rejected, []));
    }

    private void OnTrustedHistory(TrustedHistory found)
    {
        var name = found.Rejected.Manifest;
        // Moot if something is enforced by now, or the head moved on.
        if (_enforced.ContainsKey(name) || !_heads.TryGetValue(name, out var head) || !head.Version.Equals(found.Rejected.Version)) return;
        var trusted = found.History
            .Where(r => r.Manifest == name && !r.Deleted && r.Version.CompareTo(found.Rejected.Version) < 0 && Refusal(r) is null)
            .MaxBy(r => r.Version);
        if (trusted is null) return;
        _fallback[name] = trusted;
        Kick();
    }

    private void OnRechecked(Rechecked rechecked)
    {
        _busy = false;
        foreach (var report in rechecked.Reports)
        {
            if (!_enforced.TryGetValue(report.Manifest, out var enforced) || enforced.Revision.Version.CompareTo(report.Version) != 0) continue;
            // Quiet when nothing was repaired and nothing changed state: a re-check is not news.
            if (report.Changed == 0 && report.Outcome == enforced.Outcome) continue;
            _enforced[report.Manifest] = enforced with { Outcome = report.Outcome };
            if (_heads.TryGetValue(report.Manifest, out var head) && !head.Version.Equals(report.Version))
            {
                // Enforcing a trusted revision below a rejected head: the status map keeps saying rejected.
                _log.Warning("{0} {1}: drift repaired under a rejected head, {2} changed", report.Manifest, report.Version, report.Changed);
                _setup.Audit.Write("drift", report.Manifest, report.Version.ToString(), report.Node, $"{report.Changed} changed (the head is rejected here)");
                continue;
            }
            Publish(report with { Drift = report.Changed > 0 });
        }
        WatchManagedPaths();
        Kick();
    }

    private void Publish(ApplyReport full)
    {
        var report = full.Compact();
        if (report.Drift)
            _log.Warning("{0} {1}: drift repaired, {2} changed", report.Manifest, report.Version, report.Changed);
        else if (report.Outcome == ApplyOutcome.Rejected)
        {
            // Logged where it was decided.
        }
        else if (report.Succeeded)
            _log.Info("{0} {1}: ok, {2} changed in {3} ms", report.Manifest, report.Version, report.Changed, report.DurationMs);
        else
            _log.Warning("{0} {1}: failed: {2}", report.Manifest, report.Version, report.Error);

        _setup.Audit.Write(report.Drift ? "drift" : report.Outcome switch { ApplyOutcome.Ok => "applied", ApplyOutcome.Rejected => "rejected", _ => "failed" }, report.Manifest, report.Version.ToString(), report.Node,
            report.Succeeded ? $"{report.Changed} changed in {report.DurationMs} ms" : report.Error ?? "");
        _replicator.Tell(Dsl.Update(Replicated.StatusOf(report.Node), LWWDictionary<string, ApplyReport>.Empty, WriteLocal.Instance,
            d => d.SetItem(_cluster.SelfUniqueAddress, report.Manifest, report, Replicated.ReportClock)));
        _mediator.Tell(new PubSub.Publish(Replicated.ReportTopic, report));
    }

    /// <summary>The manifest paths every other enforced manifest manages (so a purge spares them).</summary>
    private HashSet<string> ManagedPathsExcept(string manifest) =>
        _enforced.Where(e => e.Key != manifest)
            .SelectMany(e => e.Value.Manifest.Resources.Select(r => r.ManagedPath).OfType<string>())
            .ToHashSet(StringComparer.Ordinal);

    private void WatchManagedPaths()
    {
        if (_watcher is null) return;
        var owners = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (name, enforced) in _enforced)
            foreach (var r in enforced.Manifest.Resources)
            {
                if (r.ManagedPath is not { } path) continue;
                try
                {
                    owners[_setup.Context.Resolve(path)] = name;
                }
                catch (ResourceException)
                {
                    // Unresolvable (a symlink out of the root): the apply reports it; nothing to watch.
                }
            }
        _watcher.Watch(owners);
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

    /// <summary>A manifest this node enforces: the revision it applied and how the last run ended.</summary>
    private sealed record Enforced(RevisionRecord Revision, Manifest Manifest, ApplyOutcome Outcome);

    private sealed record Applied(RevisionRecord Revision, Manifest? Manifest, ApplyReport Report, bool Retry, bool Fallback = false);

    private sealed record TrustedHistory(RevisionRecord Rejected, RevisionRecord[] History);

    private sealed record Rechecked(ApplyReport[] Reports);

    private sealed record PathTouched(string Manifest);

    private sealed record RecheckOne(string Manifest);

    private sealed class Retry
    {
        public static readonly Retry Instance = new();
    }

    private sealed class IntervalElapsed
    {
        public static readonly IntervalElapsed Instance = new();
    }

    public static Props Props(ConvergerSetup setup) => Akka.Actor.Props.Create(() => new Converger(setup));
}

/// <summary>What a converger needs from the node it runs in.</summary>
public sealed record ConvergerSetup(
    NodeIdentity Identity,
    ApplyContext Context,
    ContentFetcher Fetcher,
    AuditLog Audit,
    ApplyEngine Engine,
    HybridClock Clock,
    bool Announce,
    TimeSpan RetryInterval,
    TimeSpan RecheckInterval,
    double RecheckJitter,
    bool WatchPaths,
    TrustList Trust);
