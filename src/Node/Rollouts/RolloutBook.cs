using Mesh.Protocol.Wire;

namespace Mesh.Node.Rollouts;

/// <summary>
/// The rollouts a node knows of (records and every node's steps, as replicated and announced),
/// and the one question the converger asks of them: which revision of a manifest must this
/// node hold now. A plain class, so the rules are tested without an actor system.
/// </summary>
public sealed class RolloutBook(string self)
{
    private readonly Dictionary<string, RolloutRecord> _records = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Dictionary<string, RolloutStep>> _steps = new(StringComparer.Ordinal);

    /// <summary>Takes a rollout record; true when it changed what is known (the newest write wins).</summary>
    public bool Put(RolloutRecord record)
    {
        if (_records.TryGetValue(record.Manifest, out var known) && known.Updated.CompareTo(record.Updated) >= 0) return false;
        _records[record.Manifest] = record;
        return true;
    }

    /// <summary>Takes a node's step; true when it is news (another rollout's, or a later step of the same one).</summary>
    public bool Put(RolloutStep step)
    {
        if (!_steps.TryGetValue(step.Manifest, out var byNode)) _steps[step.Manifest] = byNode = new(StringComparer.Ordinal);
        // Heard twice (topic and replicated map), or an older step arriving late: not news.
        if (byNode.TryGetValue(step.Node, out var known) && known.Version.Equals(step.Version) && known.Time >= step.Time) return false;
        byNode[step.Node] = step;
        return true;
    }

    public RolloutRecord? RecordOf(string manifest) => _records.GetValueOrDefault(manifest);

    public RolloutPlan? PlanOf(string manifest, DateTimeOffset now) =>
        _records.TryGetValue(manifest, out var record)
            ? new RolloutPlan(record, _steps.GetValueOrDefault(manifest) ?? new Dictionary<string, RolloutStep>(), now)
            : null;

    /// <summary>
    /// What this node must hold of a manifest whose head is <paramref name="head"/>: the head
    /// itself when no rollout governs it, else what the rollout has reached for this node.
    /// </summary>
    public Desired For(RevisionRecord head, DateTimeOffset now)
    {
        if (!head.RolledOut) return new Desired(head, null);
        // The head says a rollout governs it, but its record has not reached this replica yet: hold.
        if (!_records.TryGetValue(head.Manifest, out var record) || !record.Version.Equals(head.Version)) return Desired.Hold;
        return PlanOf(head.Manifest, now)!.For(self) switch
        {
            RolloutTarget.New => new Desired(head, null),
            RolloutTarget.NewWithSteps => new Desired(head, record),
            _ => record.Previous is { Deleted: false } previous ? new Desired(previous, null) : Desired.Hold,
        };
    }

    /// <summary>The earliest time at which time alone changes a rollout this node takes part in.</summary>
    public DateTimeOffset? NextChange(DateTimeOffset now) =>
        _records.Keys.Select(m => PlanOf(m, now)!).Where(p => !p.Over).Select(p => p.NextChange).Where(t => t is not null).Min();
}

/// <summary>The revision to hold (null: nothing new, keep what is enforced), and the rollout whose steps to run around its apply.</summary>
public sealed record Desired(RevisionRecord? Revision, RolloutRecord? Steps)
{
    public static readonly Desired Hold = new(null, null);
}
