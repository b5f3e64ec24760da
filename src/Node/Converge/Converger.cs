using System.Diagnostics;
using Akka.Actor;
using Akka.DistributedData;
using Akka.Event;
using Mesh.Node.Audit;
using Mesh.Node.Configuration;
using Mesh.Node.Content;
using Mesh.Node.Observability;
using Mesh.Node.Providers;
using Mesh.Node.Replication;
using Mesh.Node.Rollouts;
using Mesh.Protocol.Manifests;
using Mesh.Protocol.Signing;
using Mesh.Protocol.Versioning;
using Mesh.Protocol.Wire;

namespace Mesh.Node.Converge;

/// <summary>
/// Brings this node to the head revision of every manifest that targets it, and keeps it
/// there. Learns of revisions from the change topic (fast) and from the replicated index
/// (sure), asks its <see cref="EnforcementQueue"/> what to do next, and does it: pulls and
/// applies a revision off the actor's thread (<see cref="RevisionLoader"/>, <see cref="ApplyEngine"/>),
/// re-checks what it enforces (on an interval with jitter, on demand, and when a managed path
/// is touched), and reports to the status map and the report topic. One piece of work at a
/// time, so two revisions or a revision and a re-check never race on the host.
/// </summary>
public sealed class Converger : ReceiveActor, IWithTimers
{
    public const string Name = "converger";
    public const string Path = "/user/" + Name;

    private static readonly TimeSpan WatchDebounce = TimeSpan.FromMilliseconds(100);

    private readonly ConvergerSetup _setup;
    private readonly EnforcementQueue _queue;
    private readonly RolloutBook _rollouts;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly ManagedPathWatcher? _watcher;
    /// <summary>Cancelled when the actor stops, so a node shutting down does not wait out a long command or a transfer.</summary>
    private readonly CancellationTokenSource _stopping = new();
    private bool _busy;
    /// <summary>Manifests re-checked because the fleet changed: a change they make is a re-render, not drift.</summary>
    private readonly HashSet<string> _rerender = new(StringComparer.Ordinal);

    public ITimerScheduler Timers { get; set; } = null!;

    public Converger(ConvergerSetup setup)
    {
        _setup = setup;
        // The trust list as it is at each decision: a reload (SIGHUP) may have changed it.
        _rollouts = new RolloutBook(setup.Identity.Name);
        _queue = new EnforcementQueue(setup.Identity, r => setup.Live.Current.Trust.Refusal(r.Signature, r.SignedStatement()), setup.Backoff,
            () => setup.Context.Fleet?.Self.ToJson() ?? setup.Context.Facts.ToJson(), _rollouts);
        if (setup.WatchPaths)
        {
            var self = Self;
            _watcher = new ManagedPathWatcher(manifest => self.Tell(new PathTouched(manifest)));
        }

        Receive<Changed>(c =>
        {
            foreach (var record in ReplicatedStore.Revisions(c)) Consider(record, fromIndex: true);
            // Rollout records and steps: news only when one changed what this node must hold.
            var news = false;
            foreach (var rollout in ReplicatedStore.Rollouts(c)) news |= _rollouts.Put(rollout);
            foreach (var step in ReplicatedStore.Steps(c)) news |= _rollouts.Put(step);
            if (news) Kick();
        });
        Receive<IndexHeads>(h =>
        {
            foreach (var record in h.Heads) Consider(record, fromIndex: true);
        });
        Receive<RevisionRecord>(r => Consider(r, fromIndex: false));
        Receive<RolloutRecord>(r =>
        {
            if (_rollouts.Put(r)) Kick();
        });
        Receive<RolloutStep>(s =>
        {
            if (_rollouts.Put(s)) Kick();
        });
        Receive<TurnDone>(OnTurnDone);
        Receive<RolloutTimer>(_ => Kick());
        Receive<Applied>(OnApplied);
        Receive<TrustedHistory>(found =>
        {
            if (_queue.TrustedHistory(found.Rejected, found.History)) Kick();
        });
        Receive<Rechecked>(OnRechecked);
        Receive<Retry>(_ => Kick());
        Receive<ConvergeNow>(_ =>
        {
            _queue.RecheckAll();
            Kick();
            Sender.Tell(new ConvergeAccepted(_setup.Identity.Name, _queue.Enforced.Count));
        });
        Receive<IntervalElapsed>(_ =>
        {
            _queue.RecheckAll();
            Kick();
            ArmInterval();
        });
        Receive<PathTouched>(t => Timers.StartSingleTimer("watch:" + t.Manifest, new RecheckOne(t.Manifest), WatchDebounce));
        Receive<RecheckOne>(r =>
        {
            _queue.RecheckOne(r.Manifest);
            Kick();
        });
        // The fleet or this node's facts changed: re-render what reads them, and see what targets this node now.
        Receive<Facts.FleetChanged>(change =>
        {
            foreach (var (name, enforced) in _queue.Enforced)
                if (Facts.FleetReaders.Reads(enforced.Manifest, change))
                {
                    _queue.RecheckOne(name);
                    _rerender.Add(name);
                }
            Kick();
        });
    }

    protected override void PreStart()
    {
        _setup.Store.SubscribeToIndex(Self);
        _setup.Store.SubscribeToRollouts(Self);
        if (_setup.Announce) _setup.Topics.Tell(new Topics.Subscribe(Replicated.ChangeTopic, Self));
        // Always: a rollout's steps are its fast path (the replicated map stays the truth).
        _setup.Topics.Tell(new Topics.Subscribe(Replicated.RolloutTopic, Self));
        ArmInterval();
        _setup.Progress.Publish(_queue.Progress());
    }

    protected override void PostStop()
    {
        _stopping.Cancel();
        _watcher?.Dispose();
    }

    private void ArmInterval()
    {
        var live = _setup.Live.Current;
        var jitter = 1 + live.RecheckJitter * (2 * Random.Shared.NextDouble() - 1);
        Timers.StartSingleTimer("interval", IntervalElapsed.Instance, live.RecheckInterval * jitter);
    }

    private void Consider(RevisionRecord record, bool fromIndex)
    {
        _setup.Clock.Observe(record.Version);
        if (!_queue.Consider(record, fromIndex)) return;
        if (_queue.Targets(record))
        {
            _setup.Audit.Write("received", record.Manifest, record.Version.ToString(), record.Author, $"from {record.Origin}: {record.Message}");
            _setup.Metrics.Received(record);
        }
        Kick();
    }

    /// <summary>Does what the queue says comes next, if nothing is running: rejections and deletions at once, an apply or re-checks off the actor's thread.</summary>
    private void Kick()
    {
        while (!_busy && _queue.Next(DateTime.UtcNow) is { } work)
            switch (work)
            {
                case Work.Reject reject:
                    Reject(reject);
                    break;
                case Work.Stop stop:
                    Stop(stop);
                    break;
                case Work.Apply { Rollout: { } rollout } turn:
                    StartTurn(rollout, turn.Revision);
                    break;
                case Work.Apply apply:
                    StartApply(apply.Revision, apply.Fallback);
                    break;
                case Work.Recheck recheck:
                    StartRecheck(recheck.Due);
                    break;
            }
        _setup.Progress.Publish(_queue.Progress());
        // A rollout waiting on time alone (a pause, a silent node) is looked at again then; nothing idle is woken.
        if (_rollouts.NextChange(DateTimeOffset.UtcNow) is { } at)
            Timers.StartSingleTimer("rollout", RolloutTimer.Instance, Max(at - DateTimeOffset.UtcNow, TimeSpan.FromMilliseconds(10)));
        else Timers.Cancel("rollout");
    }

    private static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;

    /// <summary>This node's turn in a rollout, off the actor's thread; each step is shared as it is reached, the end comes back as <see cref="TurnDone"/>.</summary>
    private void StartTurn(RolloutRecord rollout, RevisionRecord revision)
    {
        _busy = true;
        var setup = _setup with { Context = _setup.Context with { ManagedElsewhere = _queue.ManagedPathsExcept(revision.Manifest) } };
        var cancel = _stopping.Token;
        var (self, topics, log) = (Self, _setup.Topics, _log);
        void Report(RolloutStep step)
        {
            log.Info("{0} {1}: rollout step {2}{3}", step.Manifest, step.Version, step.Stage.ToString().ToLowerInvariant(), step.Reason is null ? "" : $": {step.Reason}");
            setup.Audit.Write("rollout", step.Manifest, step.Version.ToString(), step.Node,
                step.Stage.ToString().ToLowerInvariant() + (step.Reason is null ? "" : $": {step.Reason}"));
            setup.Store.PutStep(step);
            topics.Tell(new Topics.Publish(Replicated.RolloutTopic, step));
            self.Tell(step);
        }
        Task.Run(() => RolloutTurn.RunAsync(setup, rollout, revision, Report, cancel)).PipeTo(Self,
            success: result => new TurnDone(revision, result),
            failure: e =>
            {
                var reason = $"internal error: {e.GetBaseException().Message}";
                return new TurnDone(revision, new TurnResult(ApplyEngine.Failure(setup.Identity.Name, revision, reason, 0), null, null, null, Retry: true));
            });
    }

    private void OnTurnDone(TurnDone done)
    {
        _busy = false;
        var (revision, result) = (done.Revision, done.Result);
        if (result.Retry || result.Final is null)
            TryAgainLater(revision, result.Report, result.Unfetched, fallback: false);
        else
        {
            _rollouts.Put(result.Final);
            _queue.RolledOut(revision.Manifest, revision, result.Holds, result.Manifest, result.Report.Outcome);
            _setup.Metrics.Applied(revision, result.Report);
            Publish(result.Report);
            WatchManagedPaths();
        }
        Kick();
    }

    private void Reject(Work.Reject reject)
    {
        var revision = reject.Revision;
        _log.Warning("{0} {1}: rejected: {2}", revision.Manifest, revision.Version, reject.Reason);
        Publish(new ApplyReport(_setup.Identity.Name, revision.Manifest, revision.Version, revision.Hash, ApplyOutcome.Rejected, 0, [],
            $"rejected: {reject.Reason}", 0, DateTimeOffset.UtcNow));
        // Nothing of it enforced here yet (the node just started): look for the newest trusted revision in history.
        if (reject.LookForTrusted)
            _setup.Store.HistoryAsync(revision.Manifest).PipeTo(Self,
                success: history => new TrustedHistory(revision, history),
                failure: _ => new TrustedHistory(revision, []));
    }

    /// <summary>A tombstone: the manifest is no longer enforced here; what it applied stays on the host.</summary>
    private void Stop(Work.Stop stop)
    {
        if (!stop.WasEnforced) return;
        var tombstone = stop.Tombstone;
        _log.Info("{0} {1}: deleted by {2}; no longer enforced here", tombstone.Manifest, tombstone.Version, tombstone.Author);
        _setup.Audit.Write("deleted", tombstone.Manifest, tombstone.Version.ToString(), tombstone.Author, "no longer enforced; what it applied stays");
        _setup.Store.RemoveReport(_setup.Identity.Name, tombstone.Manifest);
        WatchManagedPaths();
    }

    /// <summary>Pulls and applies one revision off the actor's thread; the result comes back as <see cref="Applied"/>.</summary>
    private void StartApply(RevisionRecord revision, bool fallback)
    {
        _busy = true;
        var setup = _setup with { Context = _setup.Context with { ManagedElsewhere = _queue.ManagedPathsExcept(revision.Manifest) } };
        var cancel = _stopping.Token;
        Task.Run(() => Converge(setup, revision, cancel)).PipeTo(Self, success: a => a with { Fallback = fallback },
            failure: e => new Applied(revision, null, ApplyEngine.Failure(setup.Identity.Name, revision, $"internal error: {e.GetBaseException().Message}", 0),
                Retry: true, Fallback: fallback));
    }

    /// <summary>
    /// A revision that could not be had this time (its body not fetched yet, or the apply broke
    /// off): the queue says when to try again and what to tell the fleet meanwhile, pending with
    /// the reason until the fetch deadline, failed after it or when no waiting mends it.
    /// </summary>
    private void TryAgainLater(RevisionRecord revision, ApplyReport report, BlobUnavailableException? unfetched, bool fallback)
    {
        var why = unfetched is null ? report.Error ?? "the apply broke off"
            : $"waiting for {(unfetched.Hash == revision.Hash ? "the body" : $"source {unfetched.Hash[..12]}")}: {unfetched.Summary(revision.OriginAddress)}";
        var retry = _queue.Unfetched(revision, why, failure: unfetched is null || unfetched.Corrupt, DateTime.UtcNow);
        Timers.StartSingleTimer(revision.Manifest, Retry.Instance, retry.Delay);
        if (!retry.Report) return;
        if (fallback) _log.Info("{0} {1} (the trusted stand-in for a rejected head): {2}: {3}", revision.Manifest, revision.Version, retry.Outcome.ToString().ToLowerInvariant(), retry.Reason);
        else Publish(report with { Outcome = retry.Outcome, Error = retry.Reason, Resources = [], Changed = 0 });
    }

    private static async Task<Applied> Converge(ConvergerSetup setup, RevisionRecord revision, CancellationToken cancel)
    {
        var clock = Stopwatch.StartNew();
        try
        {
            var manifest = await setup.Loader.LoadAsync(revision, $"{revision.Manifest}@{revision.Version}", cancel);
            return new Applied(revision, manifest, setup.Engine.Apply(setup.Identity.Name, revision, manifest, setup.Context, cancel), Retry: false);
        }
        catch (BlobUnavailableException e)
        {
            return new Applied(revision, null, ApplyEngine.Failure(setup.Identity.Name, revision, e.Message, clock.ElapsedMilliseconds), Retry: true, Unfetched: e);
        }
        catch (DiskFullException e)
        {
            // A real failure, reported as one, and tried again: the disk may have room later.
            return new Applied(revision, null, ApplyEngine.Failure(setup.Identity.Name, revision, e.Message, clock.ElapsedMilliseconds), Retry: true);
        }
        catch (ManifestException e)
        {
            return new Applied(revision, null, ApplyEngine.Failure(setup.Identity.Name, revision, e.Message, clock.ElapsedMilliseconds), Retry: false);
        }
    }

    private void StartRecheck(Enforced[] due)
    {
        _busy = true;
        var setup = _setup;
        var contexts = due.ToDictionary(e => e.Revision.Manifest, e => setup.Context with { ManagedElsewhere = _queue.ManagedPathsExcept(e.Revision.Manifest), Recheck = true });
        var cancel = _stopping.Token;
        Task.Run(() => new Rechecked(due.Select(e => setup.Engine.Apply(setup.Identity.Name, e.Revision, e.Manifest, contexts[e.Revision.Manifest], cancel)).ToArray())).PipeTo(Self,
            failure: e => new Rechecked(due.Select(x => ApplyEngine.Failure(setup.Identity.Name, x.Revision, $"internal error: {e.GetBaseException().Message}", 0)).ToArray()));
    }

    private void OnApplied(Applied applied)
    {
        _busy = false;
        var revision = applied.Revision;
        // No peer could give us the body yet: try again later, and meanwhile go on with other manifests.
        if (applied.Retry)
        {
            TryAgainLater(revision, applied.Report, applied.Unfetched, applied.Fallback);
            Kick();
            return;
        }
        _queue.Applied(revision, applied.Manifest, applied.Report.Outcome, applied.Fallback, DateTime.UtcNow);
        if (applied.Manifest is not null) WatchManagedPaths();

        if (!applied.Fallback)
        {
            _setup.Metrics.Applied(revision, applied.Report);
            Publish(applied.Report);
        }
        else
        {
            // The newest trusted revision below a rejected head: its report stays out of the status
            // map (which keeps saying the head is rejected); the log and the audit trail have it.
            _log.Warning("{0}: the head is rejected here; enforcing {1}, the newest revision this node trusts ({2} changed)",
                revision.Manifest, revision.Version, applied.Report.Changed);
            _setup.Audit.Write("enforcing", revision.Manifest, revision.Version.ToString(), _setup.Identity.Name,
                $"the head is rejected; the newest trusted revision instead: {(applied.Report.Succeeded ? $"{applied.Report.Changed} changed" : applied.Report.Error)}");
        }
        Kick();
    }

    private void OnRechecked(Rechecked rechecked)
    {
        _busy = false;
        foreach (var report in rechecked.Reports)
            switch (_queue.Rechecked(report))
            {
                case RecheckVerdict.Report:
                    Publish(report with { Drift = report.Changed > 0 && !_rerender.Contains(report.Manifest) });
                    break;
                case RecheckVerdict.UnderRejectedHead:
                    _log.Warning("{0} {1}: drift repaired under a rejected head, {2} changed", report.Manifest, report.Version, report.Changed);
                    _setup.Audit.Write("drift", report.Manifest, report.Version.ToString(), report.Node, $"{report.Changed} changed (the head is rejected here)");
                    break;
            }
        _rerender.ExceptWith(rechecked.Reports.Select(r => r.Manifest));
        WatchManagedPaths();
        Kick();
    }

    /// <summary>One report out: the log, the audit trail, this node's status key, the report topic.</summary>
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
        else if (report.Outcome == ApplyOutcome.Pending)
            _log.Info("{0} {1}: pending: {2}", report.Manifest, report.Version, report.Error);
        else
            _log.Warning("{0} {1}: failed: {2}", report.Manifest, report.Version, report.Error);

        _setup.Audit.Write(report.Drift ? "drift" : report.Outcome switch { ApplyOutcome.Ok => "applied", ApplyOutcome.Rejected => "rejected", ApplyOutcome.Pending => "pending", _ => "failed" }, report.Manifest, report.Version.ToString(), report.Node,
            report.Succeeded ? $"{report.Changed} changed in {report.DurationMs} ms" : report.Error ?? "");
        // Counted before it leaves the node: whoever sees the report can see it counted.
        _setup.Metrics.Reported(report);
        _setup.Store.PutReport(report);
        _setup.Topics.Tell(new Topics.Publish(Replicated.ReportTopic, report));
    }

    private void WatchManagedPaths()
    {
        if (_watcher is null) return;
        var owners = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (name, enforced) in _queue.Enforced)
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

    /// <param name="Retry">Not applied this time: try again later (<see cref="Unfetched"/>: the body or a source could not be fetched).</param>
    private sealed record Applied(RevisionRecord Revision, Manifest? Manifest, ApplyReport Report, bool Retry, bool Fallback = false,
        BlobUnavailableException? Unfetched = null);

    private sealed record TrustedHistory(RevisionRecord Rejected, IReadOnlyList<RevisionRecord> History);

    private sealed record Rechecked(ApplyReport[] Reports);

    private sealed record PathTouched(string Manifest);

    private sealed record TurnDone(RevisionRecord Revision, TurnResult Result);

    private sealed class RolloutTimer
    {
        public static readonly RolloutTimer Instance = new();
    }

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

/// <summary>What a converger (and a planner) needs from the node it runs in.</summary>
public sealed record ConvergerSetup(
    NodeIdentity Identity,
    ApplyContext Context,
    RevisionLoader Loader,
    IConvergeStore Store,
    AuditLog Audit,
    ApplyEngine Engine,
    HybridClock Clock,
    bool Announce,
    FetchBackoff Backoff,
    bool WatchPaths,
    LiveSettings Live,
    ConvergeProgress Progress,
    MeshMetrics Metrics,
    /// <summary>This node's <see cref="Replication.Topics"/>: announcements in, reports and rollout steps out.</summary>
    IActorRef Topics);
