using Mesh.Node.Content;
using Mesh.Node.Replication;
using Mesh.Node.Rollouts;
using Mesh.Protocol.Manifests;
using Mesh.Protocol.Wire;

namespace Mesh.Node.Converge;

/// <summary>
/// The converger's decisions, without the actor: which revision to work on next, when a
/// revision that could not be fetched is due again, which revision stands in for a head this
/// node does not trust, and what a re-check's report means. State and the time go in, a
/// decision comes out (as Akka's <c>MembershipState</c> decides for its cluster actors), so
/// every rule is tested without an actor system; the <see cref="Converger"/> only does the I/O.
/// </summary>
/// <param name="refusal">Why this node must not apply a revision (its trust list), or null.</param>
/// <param name="backoff">How a revision whose body could not be fetched is tried again, and until when.</param>
/// <param name="facts">This node's facts as they are now, for targets with <c>facts:</c>; null: none known.</param>
/// <param name="rollouts">The rollouts known here: under one, the revision to hold is what the rollout reached for this node, not the head.</param>
public sealed class EnforcementQueue(NodeIdentity self, Func<RevisionRecord, string?> refusal, FetchBackoff backoff,
    Func<System.Text.Json.Nodes.JsonObject?>? facts = null, RolloutBook? rollouts = null)
{
    private readonly RolloutBook _rollouts = rollouts ?? new RolloutBook(self.Name);
    /// <summary>Heads a rollout keeps from this node for now, while it holds what the rollout says: dealt with, for readiness.</summary>
    private readonly Dictionary<string, Protocol.Versioning.HybridTimestamp> _held = new(StringComparer.Ordinal);

    private readonly Dictionary<string, RevisionRecord> _heads = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Protocol.Versioning.HybridTimestamp> _done = new(StringComparer.Ordinal);
    /// <summary>Manifests whose body could not be fetched: until when they wait, and which revision failed.</summary>
    private readonly Dictionary<string, (DateTime Until, Protocol.Versioning.HybridTimestamp Version)> _backoff = new(StringComparer.Ordinal);
    /// <summary>Per manifest, the revision being tried: when this node first tried it, how many passes failed, and what it last reported of them.</summary>
    private readonly Dictionary<string, Tries> _tries = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Enforced> _enforced = new(StringComparer.Ordinal);
    /// <summary>Manifests whose head this node rejected while it enforced nothing of them: the newest trusted revision to enforce instead.</summary>
    private readonly Dictionary<string, RevisionRecord> _fallback = new(StringComparer.Ordinal);
    private readonly HashSet<string> _recheck = new(StringComparer.Ordinal);
    /// <summary>Which enforced manifest holds each managed path (see <see cref="ManagedPathsExcept"/>).</summary>
    private readonly Dictionary<string, string> _claims = new(StringComparer.Ordinal);

    /// <summary>What this node enforces, by manifest.</summary>
    public IReadOnlyDictionary<string, Enforced> Enforced => _enforced;

    public FetchBackoff Backoff => backoff;

    public bool Targets(RevisionRecord revision) => revision.Target.Matches(self, revision.Target.ReadsFacts ? facts?.Invoke() : null);

    /// <summary>Takes a revision heard of (from the index or an announcement); true when it is the manifest's new head.</summary>
    public bool Consider(RevisionRecord record, bool fromIndex)
    {
        if (_heads.TryGetValue(record.Manifest, out var known))
        {
            if (record.Version.Equals(known.Version))
            {
                // The same revision heard twice, or confirmed since it was provisional: nothing new
                // to apply, but its rank is now the confirmed one for what comes next.
                if (Replicated.Rank(record) > Replicated.Rank(known)) _heads[record.Manifest] = record;
                return false;
            }
            if (!Replaces(record, known, fromIndex)) return false;
        }
        _heads[record.Manifest] = record;
        _fallback.Remove(record.Manifest);
        return true;
    }

    /// <summary>
    /// The index orders heads by their rank (<see cref="Replicated.RevisionClock"/>: the version,
    /// but a provisional revision below any acknowledged one newer than the head it replaced)
    /// and breaks a tie (two nodes, one millisecond) by the writer's incarnation, not by node
    /// name. An announcement is taken only when it outranks the known head, so a provisional
    /// revision announced late (a cut-off node's, delivered after healing) never displaces an
    /// acknowledged one; on a tie the index's choice stands, so every node ends on the head the
    /// index holds everywhere.
    /// </summary>
    public static bool Replaces(RevisionRecord candidate, RevisionRecord known, bool fromIndex)
    {
        var order = Replicated.Rank(candidate).CompareTo(Replicated.Rank(known));
        return order > 0 || (order == 0 && fromIndex && !candidate.Version.Equals(known.Version));
    }

    /// <summary>Every enforced manifest is due for a re-check (interval, or on demand).</summary>
    public void RecheckAll() => _recheck.UnionWith(_enforced.Keys);

    /// <summary>One manifest is due for a re-check (a managed path was touched).</summary>
    public void RecheckOne(string manifest) => _recheck.Add(manifest);

    /// <summary>
    /// The next piece of work at <paramref name="now"/>, or null: new revisions first (oldest
    /// first, none in back-off), then a trusted stand-in for a rejected head, then re-checks.
    /// A rejection and a deletion are settled as they are handed out; an apply is settled by <see cref="Applied"/>.
    /// </summary>
    public Work? Next(DateTime now)
    {
        _held.Clear();
        var wanted = _heads.Values
            .Where(Targets)
            .Select(head => (Head: head, Want: _rollouts.For(head, new DateTimeOffset(DateTime.SpecifyKind(now, DateTimeKind.Utc)))))
            .ToArray();
        foreach (var (head, want) in wanted)
            if (want.Revision is null || !want.Revision.Version.Equals(head.Version) && _done.TryGetValue(head.Manifest, out var held) && held.Equals(want.Revision.Version))
                _held[head.Manifest] = head.Version;
        var next = wanted
            .Where(w => w.Want.Revision is not null)
            .Where(w => !_done.TryGetValue(w.Head.Manifest, out var v) || !v.Equals(w.Want.Revision!.Version))
            .Where(w => Due(w.Head.Manifest, now))
            .OrderBy(w => w.Want.Revision!.Version)
            .Select(w => w.Want)
            .FirstOrDefault();
        if (next is { Revision: { } revision })
        {
            if (refusal(revision) is { } why)
            {
                // Never applied: the host stays as the last accepted revision left it, and keeps being enforced.
                _done[revision.Manifest] = revision.Version;
                return new Work.Reject(revision, why, LookForTrusted: !_enforced.ContainsKey(revision.Manifest));
            }
            if (revision.Deleted)
            {
                _done[revision.Manifest] = revision.Version;
                return new Work.Stop(revision, WasEnforced: _enforced.Remove(revision.Manifest));
            }
            Tried(revision, now);
            return new Work.Apply(revision, Fallback: false, next.Steps);
        }

        if (_fallback.Values.FirstOrDefault(r => Due(r.Manifest, now)) is { } trusted)
        {
            Tried(trusted, now);
            return new Work.Apply(trusted, Fallback: true);
        }

        // A manifest that no longer targets this node is no longer enforced (what it applied stays).
        // Its facts may make it a target again: then the head is applied anew.
        foreach (var name in _enforced.Keys.Where(n => _heads.TryGetValue(n, out var h) && !Targets(h)).ToArray())
        {
            _enforced.Remove(name);
            _done.Remove(name);
        }
        var due = _recheck.Where(_enforced.ContainsKey).Select(n => _enforced[n]).ToArray();
        _recheck.Clear();
        return due.Length == 0 ? null : new Work.Recheck(due);
    }

    /// <summary>How an apply ended (it ran, or the revision is refused for good: a bad manifest).</summary>
    public void Applied(RevisionRecord revision, Manifest? manifest, ApplyOutcome outcome, bool fallback, DateTime now)
    {
        var name = revision.Manifest;
        _backoff.Remove(name);
        _tries.Remove(name);
        if (fallback)
        {
            _fallback.Remove(name);
            if (manifest is not null) _enforced.TryAdd(name, new Enforced(revision, manifest, outcome));
            return;
        }
        _done[name] = revision.Version;
        if (manifest is not null) _enforced[name] = new Enforced(revision, manifest, outcome);
    }

    /// <summary>
    /// A pass over the peers did not give the revision's body or a source (<paramref name="why"/>:
    /// what was tried, as a person reads it), or the apply broke off. The manifest waits out a
    /// back-off while others go on, and is tried again and again. Until the fetch deadline, counted
    /// from this node's first try of the revision, that is <see cref="ApplyOutcome.Pending"/>; then,
    /// or at once when <paramref name="failure"/> (no waiting mends it: every peer sent bytes that
    /// do not match the hash, an internal error), it is <see cref="ApplyOutcome.Failed"/>, and the
    /// node keeps trying at the longest back-off, so a body that turns up later is still applied.
    /// </summary>
    public FetchRetry Unfetched(RevisionRecord revision, string why, bool failure, DateTime now)
    {
        var name = revision.Manifest;
        var tries = _tries.TryGetValue(name, out var t) && t.Version.Equals(revision.Version) ? t : new Tries(revision.Version, now, 0, null, null);
        var attempt = tries.Failed + 1;
        var deadline = tries.First + backoff.Deadline;
        var expired = now >= deadline;
        var delay = expired ? backoff.Cap : backoff.Delay(attempt);
        var outcome = failure || expired ? ApplyOutcome.Failed : ApplyOutcome.Pending;
        var reason = outcome == ApplyOutcome.Pending
            ? $"{why}; retrying until {deadline:HH:mm:ss} UTC (mesh.content.fetch-deadline {Protocol.Durations.Format(backoff.Deadline)})"
            : expired
                ? $"{why}; gave up waiting at the fetch deadline of {Protocol.Durations.Format(backoff.Deadline)} after {attempt} tries since {tries.First:HH:mm:ss} UTC" +
                  $" (mesh.content.fetch-deadline); still trying every {Protocol.Durations.Format(backoff.Cap)}"
                : why;
        // A pending report is worth sending again when its reason changed (more peers hold the body now);
        // a failure once, until the outcome changes.
        var report = outcome != tries.Outcome || (outcome == ApplyOutcome.Pending && why != tries.Why);
        _tries[name] = tries with { Failed = attempt, Why = report ? why : tries.Why, Outcome = report ? outcome : tries.Outcome };
        _backoff[name] = (now + delay, revision.Version);
        return new FetchRetry(outcome, reason, delay, deadline, report);
    }

    /// <summary>
    /// How a node's turn in a rollout ended: it holds <paramref name="holds"/> now (the new
    /// revision, or the previous one it went back to, or nothing when there was none before).
    /// </summary>
    public void RolledOut(string name, RevisionRecord tried, RevisionRecord? holds, Manifest? manifest, ApplyOutcome outcome)
    {
        _backoff.Remove(name);
        _tries.Remove(name);
        _done[name] = (holds ?? tried).Version;
        if (holds is not null && manifest is not null) _enforced[name] = new Enforced(holds, manifest, outcome);
        else if (holds is null) _enforced.Remove(name);
    }

    /// <summary>
    /// The history of a manifest whose head was rejected: the newest revision below it that this
    /// node trusts becomes the one to enforce. False when it is moot (something is enforced by
    /// now, or the head moved on) or nothing is trusted.
    /// </summary>
    public bool TrustedHistory(RevisionRecord rejected, IEnumerable<RevisionRecord> history)
    {
        var name = rejected.Manifest;
        if (_enforced.ContainsKey(name) || !_heads.TryGetValue(name, out var head) || !head.Version.Equals(rejected.Version)) return false;
        var trusted = history
            .Where(r => r.Manifest == name && !r.Deleted && r.Version.CompareTo(rejected.Version) < 0 && refusal(r) is null)
            .MaxBy(r => r.Version);
        if (trusted is null) return false;
        _fallback[name] = trusted;
        return true;
    }

    /// <summary>What a re-check's report means, and the outcome it leaves enforced.</summary>
    public RecheckVerdict Rechecked(ApplyReport report)
    {
        if (!_enforced.TryGetValue(report.Manifest, out var enforced) || enforced.Revision.Version.CompareTo(report.Version) != 0) return RecheckVerdict.Stale;
        // Quiet when nothing was repaired and nothing changed state: a re-check is not news.
        if (report.Changed == 0 && report.Outcome == enforced.Outcome) return RecheckVerdict.Quiet;
        _enforced[report.Manifest] = enforced with { Outcome = report.Outcome };
        // Enforcing a trusted revision below a rejected head: the status map keeps saying rejected.
        return _heads.TryGetValue(report.Manifest, out var head) && !head.Version.Equals(report.Version) && !_held.ContainsKey(report.Manifest)
            ? RecheckVerdict.UnderRejectedHead
            : RecheckVerdict.Report;
    }

    /// <summary>
    /// The paths other enforced manifests hold, each with the manifest that holds it: a purge
    /// spares them, and <paramref name="manifest"/> must not manage them too (its resource on such
    /// a path fails, naming both). A path two manifests declare belongs to the one that claimed it
    /// first here (the one enforced first, the older revision at a start), until that one lets it
    /// go (a new revision without it, a deletion, no longer targeted): then it passes to the next,
    /// so the two never take turns at the file.
    /// </summary>
    public Dictionary<string, string> ManagedPathsExcept(string manifest)
    {
        foreach (var (path, owner) in _claims.ToArray())
            if (!_enforced.TryGetValue(owner, out var holder) || !holder.Manifest.Resources.Any(r => r.ManagedPath == path))
                _claims.Remove(path);
        foreach (var (name, enforced) in _enforced.OrderBy(e => e.Value.Revision.Version).ThenBy(e => e.Key, StringComparer.Ordinal))
            foreach (var path in enforced.Manifest.Resources.Select(r => r.ManagedPath).OfType<string>())
                _claims.TryAdd(path, name);
        return _claims.Where(c => c.Value != manifest).ToDictionary(c => c.Key, c => c.Value, StringComparer.Ordinal);
    }

    /// <summary>Notes this node's first try of a revision: its fetch deadline counts from then.</summary>
    private void Tried(RevisionRecord revision, DateTime now)
    {
        if (!_tries.TryGetValue(revision.Manifest, out var tries) || !tries.Version.Equals(revision.Version))
            _tries[revision.Manifest] = new Tries(revision.Version, now, 0, null, null);
    }

    private sealed record Tries(Protocol.Versioning.HybridTimestamp Version, DateTime First, int Failed, string? Why, ApplyOutcome? Outcome);

    private bool Due(string manifest, DateTime now) => !_backoff.TryGetValue(manifest, out var waiting) || waiting.Until <= now;

    /// <summary>
    /// A snapshot of how far this node got: per manifest, the newest revision it has dealt with
    /// (applied, failed, rejected, deleted, or waiting out a back-off). Immutable, so the
    /// converger can hand it to other threads (the readiness probe) as it is.
    /// </summary>
    public EnforcementProgress Progress()
    {
        var handled = new Dictionary<string, Protocol.Versioning.HybridTimestamp>(_done, StringComparer.Ordinal);
        // A head a rollout keeps from this node is dealt with: the node holds what the rollout says.
        foreach (var (name, head) in _held)
            if (!handled.TryGetValue(name, out var done) || done.CompareTo(head) < 0) handled[name] = head;
        foreach (var (name, waiting) in _backoff)
            if (!handled.TryGetValue(name, out var done) || done.CompareTo(waiting.Version) < 0) handled[name] = waiting.Version;
        return new EnforcementProgress(self, handled, facts?.Invoke());
    }
}

/// <summary>
/// What <see cref="EnforcementQueue.Unfetched"/> decided: the outcome to report (pending, or failed),
/// its reason, when to try again, the fetch deadline, and whether the report is news.
/// </summary>
public sealed record FetchRetry(ApplyOutcome Outcome, string Reason, TimeSpan Delay, DateTime Deadline, bool Report);

/// <summary>A manifest this node enforces: the revision it applied and how the last run ended.</summary>
public sealed record Enforced(RevisionRecord Revision, Manifest Manifest, ApplyOutcome Outcome);

/// <summary>One piece of the converger's work.</summary>
public abstract record Work
{
    /// <summary>This node must not apply the revision; <see cref="LookForTrusted"/>: nothing of it is enforced yet, so look in history for a revision to stand in.</summary>
    public sealed record Reject(RevisionRecord Revision, string Reason, bool LookForTrusted) : Work;

    /// <summary>A tombstone: stop enforcing (<see cref="WasEnforced"/>: it was enforced until now).</summary>
    public sealed record Stop(RevisionRecord Tombstone, bool WasEnforced) : Work;

    /// <summary>
    /// Pull and apply a revision; <see cref="Fallback"/>: the trusted stand-in for a rejected head;
    /// <see cref="Rollout"/>: this node's turn in that rollout, so its steps run around the apply.
    /// </summary>
    public sealed record Apply(RevisionRecord Revision, bool Fallback, RolloutRecord? Rollout = null) : Work;

    /// <summary>Run the engine again on what is enforced, to repair drift.</summary>
    public sealed record Recheck(Enforced[] Due) : Work;
}

public enum RecheckVerdict
{
    /// <summary>The report is of a revision no longer enforced.</summary>
    Stale,
    /// <summary>Nothing repaired, nothing changed: not news.</summary>
    Quiet,
    /// <summary>Worth reporting: drift repaired, or the outcome changed.</summary>
    Report,
    /// <summary>Drift repaired on the stand-in for a rejected head: logged and audited, not reported.</summary>
    UnderRejectedHead,
}
