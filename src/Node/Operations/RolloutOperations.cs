using Akka.Actor;
using Akka.Cluster;
using Akka.DistributedData;
using Mesh.Node.Audit;
using Mesh.Node.Configuration;
using Mesh.Node.Membership;
using Mesh.Node.Replication;
using Mesh.Node.Rollouts;
using Mesh.Protocol.Api;
using Mesh.Protocol.Manifests;
using Mesh.Protocol.Versioning;
using Mesh.Protocol.Wire;

namespace Mesh.Node.Operations;

/// <summary>
/// Rollouts as the control API offers them: the record a push starts (nodes frozen in their
/// order, the effective policy), the status any node derives from its replica, and the
/// operator's pause, resume and abort, each a write to the replicated record that any node accepts.
/// </summary>
public sealed class RolloutOperations(NodeSettings settings, Cluster cluster, ReplicatedStore store, HybridClock clock, AuditLog audit, IActorRef topics,
    Facts.FleetView fleet)
{
    /// <summary>The effective policy of a pushed manifest: its section with the push's flags over it; null when neither asks for a rollout.</summary>
    /// <exception cref="ManifestException">a flag is refused (the error names it)</exception>
    public static RolloutPolicy? PolicyOf(Manifest manifest, RolloutFlags? flags) =>
        flags is { Any: true } ? (manifest.Rollout ?? RolloutPolicy.Default).Override(flags.Batch, flags.MaxFailures, flags.Pause) : manifest.Rollout;

    /// <summary>Why a new push of <paramref name="manifest"/> must wait (a rollout of it is not over), or null.</summary>
    public async Task<string?> BusyAsync(string manifest)
    {
        var (found, steps) = await LatestAsync(manifest);
        if (found is not { } record) return null;
        var plan = new RolloutPlan(record, steps, DateTimeOffset.UtcNow);
        return plan.Over ? null
            : $"{manifest}: the rollout of {record.Version} is {Phase(plan.Phase)} (batch {plan.Current} of {plan.Batches.Count}); " +
              "wait for it, abort it (mesh rollout abort), or push with --force (which aborts it)";
    }

    /// <summary>
    /// The rollout record of a new revision: the members its target selects now, canaries first,
    /// the rest by name. Written before the revision (which says a rollout governs it), so no node
    /// applies the revision before it knows its turn.
    /// </summary>
    public async Task<RolloutRecord> StartAsync(string manifest, HybridTimestamp version, RevisionRecord? previous, RolloutPolicy policy, TargetSpec target, string author)
    {
        var nodes = Order(Members.TargetedIdentities(cluster, target, fleet), policy);
        var now = DateTimeOffset.UtcNow;
        var record = new RolloutRecord(manifest, version, previous is { Deleted: false } ? previous : null, policy, nodes, author, settings.Name, now,
            RolloutControl.Run, 0, clock.Now(), now);
        await Put(record);
        audit.Write("rollout", manifest, version.ToString(), author,
            $"started: {nodes.Length} nodes in {RolloutPlan.Split(record).Count} batches ({Describe(policy)})");
        return record;
    }

    /// <summary>The stable order of a rollout: canaries first, then the others, each by name.</summary>
    public static string[] Order(IEnumerable<NodeIdentity> nodes, RolloutPolicy policy) =>
        nodes.OrderBy(n => policy.Canary?.Matches(n) == true ? 0 : 1).ThenBy(n => n.Name, StringComparer.Ordinal).Select(n => n.Name).ToArray();

    /// <summary>Every rollout this node knows of, newest first.</summary>
    public async Task<RolloutStatus[]> StatusAsync()
    {
        var records = await store.RolloutsAsync();
        var result = new List<RolloutStatus>();
        foreach (var record in records.Values.OrderByDescending(r => r.Version))
            result.Add(Describe(record, await store.StepsAsync(record.Manifest)));
        return result.ToArray();
    }

    /// <summary>One manifest's latest rollout, or null.</summary>
    public async Task<RolloutStatus?> StatusAsync(string manifest) =>
        await store.RolloutAsync(manifest) is { } record ? Describe(record, await store.StepsAsync(manifest)) : null;

    /// <summary>
    /// pause (no new node starts), resume (lifts a pause and opens the manual gate the rollout
    /// waits at), abort (no new node starts, ever). Null when there is no such rollout.
    /// </summary>
    /// <exception cref="ArgumentException">the rollout is over, or the word is unknown</exception>
    public async Task<RolloutControlResponse?> ControlAsync(string manifest, string action, string? author)
    {
        var (found, steps) = await LatestAsync(manifest);
        if (found is not { } record) return null;
        var plan = new RolloutPlan(record, steps, DateTimeOffset.UtcNow);
        if (plan.Over) throw new ArgumentException($"the rollout of {manifest} {record.Version} is already {Phase(plan.Phase)}");
        clock.Observe(record.Updated);
        var now = DateTimeOffset.UtcNow;
        var changed = action switch
        {
            "pause" => record with { Control = RolloutControl.Pause },
            // Opens the gate the rollout waits at (the batch after the last finished one).
            "resume" => record with { Control = RolloutControl.Run, Released = Math.Max(record.Released, plan.Finished) },
            "abort" => record with { Control = RolloutControl.Abort },
            _ => throw new ArgumentException($"'{action}' is not a rollout action (pause, resume, abort)"),
        };
        changed = changed with { Updated = clock.Now(), ControlTime = now };
        await Put(changed);
        audit.Write("rollout", manifest, record.Version.ToString(), author ?? "unknown", $"{action} (via {settings.Name})");
        return new RolloutControlResponse(manifest, record.Version.ToString(), action, Describe(changed, steps));
    }

    /// <summary>
    /// A rollout's record and steps as a majority holds them (this replica repaired on the way),
    /// for the decisions an operator makes through any node: the record is written at the node a
    /// push or a control went through and reaches the others by gossip, so this replica alone can
    /// lag behind what the operator just saw elsewhere (a rollout "not found", a pause over an
    /// abort, a push refused for a rollout already over). This replica's own when no majority is
    /// reachable or none answers within <see cref="Queries.QuorumReadTimeout"/>.
    /// </summary>
    private async Task<(RolloutRecord? Record, IReadOnlyDictionary<string, RolloutStep> Steps)> LatestAsync(string manifest)
    {
        if (Members.SeesMajority(cluster))
        {
            var majority = new ReadMajority(Queries.QuorumReadTimeout);
            var record = store.RolloutAsync(manifest, majority);
            var steps = store.StepsAsync(manifest, majority);
            try
            {
                await Task.WhenAll(record, steps);
                return (record.Result, steps.Result);
            }
            catch (StoreUnavailableException)
            {
            }
        }
        return (await store.RolloutAsync(manifest), await store.StepsAsync(manifest));
    }

    private async Task Put(RolloutRecord record)
    {
        await store.PutRolloutAsync(record);
        topics.Tell(new Topics.Publish(Replicated.RolloutTopic, record));
    }

    public static RolloutStatus Describe(RolloutRecord record, IReadOnlyDictionary<string, RolloutStep> steps)
    {
        var plan = new RolloutPlan(record, steps, DateTimeOffset.UtcNow);
        var skipped = plan.Skipped.ToHashSet(StringComparer.Ordinal);
        var batches = plan.Batches.Select((nodes, i) => new RolloutBatchStatus(i + 1, nodes.Select(n =>
        {
            var step = plan.StepOf(n);
            var stage = step is null ? (skipped.Contains(n) ? "skipped" : "waiting")
                : skipped.Contains(n) ? "skipped" : step.Stage.ToString().ToLowerInvariant();
            return new RolloutNodeStatus(n, stage, step?.Reason, step?.Time, step?.RolledBack ?? false);
        }).ToArray())).ToArray();
        return new RolloutStatus(record.Manifest, record.Version.ToString(), record.Previous?.Version.ToString(), Phase(plan.Phase),
            plan.Current, plan.Batches.Count, plan.Failures, plan.Allowed, record.Author, record.Origin,
            record.Started, record.Control.ToString().ToLowerInvariant(), Describe(record.Policy), batches, plan.Skipped.ToArray(),
            plan.Phase == RolloutPhase.Running ? plan.NextChange : null);
    }

    private static string Phase(RolloutPhase phase) => phase == RolloutPhase.WaitingForResume ? "waiting-for-resume" : phase.ToString().ToLowerInvariant();

    private static string Describe(RolloutPolicy policy)
    {
        var parts = new List<string>
        {
            "batches " + string.Join(",", policy.Batches.Select(b => b.ToString())),
            $"max failures {policy.MaxFailures}",
            "pause " + (policy.ManualPause ? "manual" : Protocol.Durations.Format(policy.Pause)),
            "on failure " + policy.OnFailure.ToString().ToLowerInvariant(),
        };
        if (policy.Canary is { } canary) parts.Add("canary " + string.Join(",", canary.Nodes.Concat(canary.Labels.Select(l => $"{l.Key}={l.Value}"))) + (canary.Manual ? " (manual)" : ""));
        var steps = new[] { policy.Drain is null ? null : "drain", "apply", policy.Health.Length > 0 ? $"health ({policy.Health.Length})" : null, policy.Undrain is null ? null : "undrain" };
        parts.Add("steps " + string.Join(" > ", steps.OfType<string>()));
        return string.Join("; ", parts);
    }
}
