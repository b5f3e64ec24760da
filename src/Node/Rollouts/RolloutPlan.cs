using Mesh.Protocol.Wire;

namespace Mesh.Node.Rollouts;

/// <summary>
/// What a rollout has reached, derived from replicated facts only: its record (policy, nodes
/// in order, the operator's control) and the nodes' steps, at a given time. Every node derives
/// the same answer from the same facts, so nobody drives a rollout and nothing is lost when the
/// node that took the push goes away.
/// <para>
/// Batch k (cumulative sizes from the policy over the frozen node list) starts when every
/// earlier batch finished (each node healthy, failed, or silent for node_timeout after its
/// batch started: skipped and listed), the failures of the earlier batches are within
/// max_failures, the rollout is neither paused nor aborted, a manual gate before it was
/// released, and the pause after the previous batch's last report has elapsed. A batch that
/// started stays started: its nodes finish their steps even when a failure in it halts the rollout.
/// </para>
/// </summary>
public sealed class RolloutPlan
{
    private readonly Dictionary<string, int> _batchOf = new(StringComparer.Ordinal);
    private readonly IReadOnlyDictionary<string, RolloutStep> _steps;
    private readonly List<string> _skipped = [];

    public RolloutRecord Record { get; }

    /// <summary>The nodes of each batch, in order (batches that add no node are left out).</summary>
    public IReadOnlyList<string[]> Batches { get; }

    /// <summary>Batches allowed to start (their nodes run their steps).</summary>
    public int Started { get; private set; }

    /// <summary>Batches finished, in order.</summary>
    public int Finished { get; private set; }

    /// <summary>The batch under way, or the next to start, from 1; for a rollout that halted or was aborted, the last that started.</summary>
    public int Current => Phase is RolloutPhase.Halted or RolloutPhase.Aborted or RolloutPhase.Completed
        ? Math.Max(1, Math.Min(Started, Batches.Count))
        : Math.Min(Started > Finished ? Started : Finished + 1, Math.Max(1, Batches.Count));

    public RolloutPhase Phase { get; private set; }

    public int Failures { get; }

    /// <summary>Failures allowed before the rollout halts.</summary>
    public int Allowed { get; }

    /// <summary>Nodes that stayed silent for node_timeout after their batch started.</summary>
    public IReadOnlyList<string> Skipped => _skipped;

    /// <summary>When time alone may change the plan (a pause ends, a silent node times out); null when only a new fact can.</summary>
    public DateTimeOffset? NextChange { get; private set; }

    /// <param name="steps">the nodes' steps by node; steps of another version are ignored</param>
    public RolloutPlan(RolloutRecord record, IReadOnlyDictionary<string, RolloutStep> steps, DateTimeOffset now)
    {
        Record = record;
        _steps = steps.Where(s => s.Value.Version.Equals(record.Version)).ToDictionary(s => s.Key, s => s.Value, StringComparer.Ordinal);
        Batches = Split(record);
        for (var k = 0; k < Batches.Count; k++)
            foreach (var node in Batches[k]) _batchOf[node] = k;
        var total = record.Nodes.Length;
        Allowed = record.Policy.MaxFailures.Of(total);
        Failures = _steps.Values.Count(s => s.Stage == RolloutStage.Failed);
        Derive(now);
    }

    public int BatchOf(string node) => _batchOf.GetValueOrDefault(node, -1);

    public RolloutStep? StepOf(string node) => _steps.GetValueOrDefault(node);

    /// <summary>Whether the rollout is over (completed, halted or aborted): nothing more will start.</summary>
    public bool Over => Phase is RolloutPhase.Completed or RolloutPhase.Halted or RolloutPhase.Aborted;

    /// <summary>Which revision <paramref name="node"/> must hold now.</summary>
    public RolloutTarget For(string node)
    {
        if (StepOf(node) is { Finished: true } step)
            return step.Stage == RolloutStage.Failed && step.RolledBack ? RolloutTarget.Previous : RolloutTarget.New;
        var batch = BatchOf(node);
        // A node that joined after the push follows the rollout's outcome, never leads it.
        if (batch < 0) return Phase == RolloutPhase.Completed ? RolloutTarget.New : RolloutTarget.Previous;
        return batch < Started ? RolloutTarget.NewWithSteps : RolloutTarget.Previous;
    }

    private void Derive(DateTimeOffset now)
    {
        var policy = Record.Policy;
        var start = Record.Started;
        var failedBefore = 0;
        Phase = RolloutPhase.Running;
        for (var k = 0; k < Batches.Count; k++)
        {
            // A batch one of whose nodes reported a step has begun: the facts stand, whatever the gates say now.
            var begun = Batches[k].Any(n => StepOf(n) is not null);
            var gated = k > 0 && policy.ManualAfter(k - 1);
            if (k > 0)
            {
                if (gated && Record.ControlTime > start) start = Record.ControlTime;
                start += policy.PauseAfter(k - 1);
            }
            if (!begun)
            {
                // After a resume, a batch that waited starts then: its silent nodes get their full node_timeout.
                if (Record.Control == RolloutControl.Run && Record.ControlTime > start) start = Record.ControlTime;
                RolloutPhase? stop = failedBefore > Allowed ? RolloutPhase.Halted
                    : Record.Control == RolloutControl.Abort ? RolloutPhase.Aborted
                    : gated && Record.Released < k ? RolloutPhase.WaitingForResume
                    : Record.Control == RolloutControl.Pause ? RolloutPhase.Paused
                    : null;
                if (stop is { } phase)
                {
                    Phase = phase;
                    break;
                }
                if (now < start)
                {
                    NextChange = start;
                    break;
                }
            }
            Started = k + 1;

            var finish = start;
            var waiting = false;
            foreach (var node in Batches[k])
            {
                var step = StepOf(node);
                if (step is { Finished: true })
                {
                    if (step.Stage == RolloutStage.Failed) failedBefore++;
                    if (step.Time > finish) finish = step.Time;
                    continue;
                }
                // Silent since its batch started (or since its last step): skipped once node_timeout has passed.
                var since = step is not null && step.Time > start ? step.Time : start;
                var deadline = since + policy.NodeTimeout;
                if (now >= deadline)
                {
                    _skipped.Add(node);
                    if (deadline > finish) finish = deadline;
                    continue;
                }
                waiting = true;
                if (NextChange is null || deadline < NextChange) NextChange = deadline;
            }
            if (waiting) break;
            Finished = k + 1;
            start = finish;
        }
        if (Phase == RolloutPhase.Running && Finished == Batches.Count)
            Phase = Failures > Allowed ? RolloutPhase.Halted : RolloutPhase.Completed;
    }

    /// <summary>The frozen node list cut at the policy's cumulative batch sizes.</summary>
    public static IReadOnlyList<string[]> Split(RolloutRecord record)
    {
        var nodes = record.Nodes;
        var batches = new List<string[]>();
        var done = 0;
        foreach (var amount in record.Policy.Batches)
        {
            var upTo = Math.Max(done, Math.Min(nodes.Length, amount.Of(nodes.Length)));
            if (upTo > done) batches.Add(nodes[done..upTo]);
            done = upTo;
        }
        if (done < nodes.Length) batches.Add(nodes[done..]);
        return batches;
    }
}

/// <summary>Where a rollout stands.</summary>
public enum RolloutPhase { Running, Paused, WaitingForResume, Halted, Aborted, Completed }

/// <summary>Which revision a node holds during a rollout: the previous one, the new one (steps done), or the new one through its steps.</summary>
public enum RolloutTarget { Previous, New, NewWithSteps }
