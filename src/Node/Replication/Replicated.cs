using System.Text;
using Akka.DistributedData;
using Mesh.Protocol.Tasks;
using Mesh.Protocol.Wire;

namespace Mesh.Node.Replication;

/// <summary>
/// The names under which nodes share state. The DData keys are the truth (they also reach
/// late joiners and cover lost announcements); the topics (<see cref="Topics"/>) are the fast path that
/// tells peers to look now.
///
/// A DData value travels whole in one remoting frame (128 000 bytes by default), so no key
/// may grow with the fleet: the index is split over a fixed number of shards by manifest
/// name, and each node's reports live under a key of its own.
/// </summary>
public static class Replicated
{
    /// <summary>Shards of the index. Every node must use the same number: it is part of the wire format.</summary>
    public const int IndexShards = 32;

    private static readonly LWWDictionaryKey<string, RevisionRecord>[] IndexKeys =
        Enumerable.Range(0, IndexShards).Select(i => new LWWDictionaryKey<string, RevisionRecord>($"mesh-index-{i}")).ToArray();

    /// <summary>Every shard of the index: manifest name → head revision record, last writer by version wins.</summary>
    public static IReadOnlyList<LWWDictionaryKey<string, RevisionRecord>> Index => IndexKeys;

    /// <summary>The index shard that holds a manifest.</summary>
    public static LWWDictionaryKey<string, RevisionRecord> IndexOf(string manifest) => IndexKeys[Shard(manifest)];

    private static readonly LWWDictionaryKey<string, RevisionRecord>[] HistoryKeys =
        Enumerable.Range(0, IndexShards).Select(i => new LWWDictionaryKey<string, RevisionRecord>($"mesh-history-{i}")).ToArray();

    /// <summary>
    /// The history shard of a manifest: "manifest@version" → every retained revision record,
    /// each its own entry, so concurrent pushes never overwrite each other's history.
    /// </summary>
    public static LWWDictionaryKey<string, RevisionRecord> HistoryOf(string manifest) => HistoryKeys[Shard(manifest)];

    /// <summary>Every shard of the history.</summary>
    public static IReadOnlyList<LWWDictionaryKey<string, RevisionRecord>> History => HistoryKeys;

    public static string HistoryEntry(RevisionRecord revision) => $"{revision.Manifest}@{revision.Version}";

    /// <summary>One node's reports: manifest → that node's latest apply report. Only that node writes it.</summary>
    public static LWWDictionaryKey<string, ApplyReport> StatusOf(string node) => new($"mesh-status-{node}");

    /// <summary>
    /// The attached hosts (not members: see <c>Attached.AttachedHosts</c>), by name. Written by the
    /// core peer a host is attached to; one small entry per host, changed when hosts come and go.
    /// </summary>
    public static readonly LWWDictionaryKey<string, AttachedHostRecord> Attached = new("mesh-attached");

    /// <summary>The LWW clock for the attached hosts: always forward, and at least the time the host attached.</summary>
    public static long AttachedClock(long current, AttachedHostRecord host) => Math.Max(current + 1, host.Since.ToUnixTimeMilliseconds());

    /// <summary>Shards of the facts. Every node must use the same number: it is part of the wire format.</summary>
    public const int FactsShards = 32;

    private static readonly LWWDictionaryKey<string, FactsRecord>[] FactsKeys =
        Enumerable.Range(0, FactsShards).Select(i => new LWWDictionaryKey<string, FactsRecord>($"mesh-facts-{i}")).ToArray();

    /// <summary>Every shard of the facts: node name → that node's facts. Only that node writes its entry.</summary>
    public static IReadOnlyList<LWWDictionaryKey<string, FactsRecord>> Facts => FactsKeys;

    /// <summary>The facts shard that holds a node's facts.</summary>
    public static LWWDictionaryKey<string, FactsRecord> FactsOf(string node) => FactsKeys[Shard(node, FactsShards)];
    /// <summary>Shards of the tasks. Fixed, like <see cref="IndexShards"/>: part of the wire format.</summary>
    public const int TaskShards = 4;

    /// <summary>Shards of the task results, by task and node, so one task on many nodes spreads over all of them.</summary>
    public const int TaskResultShards = 32;

    private static readonly LWWDictionaryKey<string, TaskRecord>[] TaskKeys =
        Enumerable.Range(0, TaskShards).Select(i => new LWWDictionaryKey<string, TaskRecord>($"mesh-tasks-{i}")).ToArray();

    private static readonly LWWDictionaryKey<string, TaskResult>[] TaskResultKeys =
        Enumerable.Range(0, TaskResultShards).Select(i => new LWWDictionaryKey<string, TaskResult>($"mesh-task-results-{i}")).ToArray();

    /// <summary>Every shard of the tasks: task id → task record.</summary>
    public static IReadOnlyList<LWWDictionaryKey<string, TaskRecord>> Tasks => TaskKeys;

    public static LWWDictionaryKey<string, TaskRecord> TaskShardOf(string id) => TaskKeys[Shard(id, TaskShards)];

    /// <summary>Every shard of the results: "task id/node" → that node's result.</summary>
    public static IReadOnlyList<LWWDictionaryKey<string, TaskResult>> TaskResults => TaskResultKeys;

    public static string TaskResultEntry(string taskId, string node) => $"{taskId}/{node}";

    public static LWWDictionaryKey<string, TaskResult> TaskResultShardOf(string taskId, string node) =>
        TaskResultKeys[Shard(TaskResultEntry(taskId, node), TaskResultShards)];

    /// <summary>The LWW clock for tasks and results: always forward, and at least now.</summary>
    public static long ForwardClock<T>(long current, T value) => Math.Max(current + 1, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
    /// <summary>Shards of the rollout records and of the rollout steps: few, since rollouts are few; part of the wire format.</summary>
    public const int RolloutShards = 8;

    private static readonly LWWDictionaryKey<string, RolloutRecord>[] RolloutKeys =
        Enumerable.Range(0, RolloutShards).Select(i => new LWWDictionaryKey<string, RolloutRecord>($"mesh-rollout-{i}")).ToArray();

    private static readonly LWWDictionaryKey<string, RolloutStep>[] StepKeys =
        Enumerable.Range(0, RolloutShards).Select(i => new LWWDictionaryKey<string, RolloutStep>($"mesh-rollout-steps-{i}")).ToArray();

    /// <summary>Every shard of the rollout records: manifest name → its latest rollout, the newest write (by <see cref="RolloutRecord.Updated"/>) wins.</summary>
    public static IReadOnlyList<LWWDictionaryKey<string, RolloutRecord>> Rollouts => RolloutKeys;

    public static LWWDictionaryKey<string, RolloutRecord> RolloutOf(string manifest) => RolloutKeys[Shard(manifest, RolloutShards)];

    /// <summary>Every shard of the rollout steps: "manifest/node" → that node's step in the manifest's latest rollout.</summary>
    public static IReadOnlyList<LWWDictionaryKey<string, RolloutStep>> RolloutSteps => StepKeys;

    /// <summary>The steps shard of a manifest: one entry per node, so it stays small (about 200 bytes a node).</summary>
    public static LWWDictionaryKey<string, RolloutStep> RolloutStepsOf(string manifest) => StepKeys[Shard(manifest, RolloutShards)];

    public static string StepEntry(RolloutStep step) => $"{step.Manifest}/{step.Node}";

    /// <summary>Carries each <see cref="RolloutRecord"/> and <see cref="RolloutStep"/> as it is written: the fast path of a rollout.</summary>
    public const string RolloutTopic = "mesh.rollouts";

    /// <summary>The LWW clock for rollout records: the hybrid version of the last write (push, pause, resume, abort).</summary>
    public static long RolloutClock(long current, RolloutRecord record) => record.Updated.Packed;

    /// <summary>The LWW clock for steps: always forward, and at least the step's time.</summary>
    public static long StepClock(long current, RolloutStep step) => Math.Max(current + 1, step.Time.ToUnixTimeMilliseconds());

    /// <summary>Carries each new <see cref="RevisionRecord"/> as it is pushed.</summary>
    public const string ChangeTopic = "mesh.changes";

    /// <summary>Carries each <see cref="ApplyReport"/> as it is made.</summary>
    public const string ReportTopic = "mesh.reports";

    /// <summary>
    /// The LWW clock for revisions, so every node picks the same head: an acknowledged revision
    /// ranks by its hybrid logical version (times <see cref="ProvisionalSteps"/>); a provisional one
    /// (accepted without its quorum) by the rank it was given over the head it replaced
    /// (<see cref="ProvisionalRankOver"/>). An acknowledged revision therefore beats every
    /// provisional one made over an older head, whatever their times, and a provisional one still
    /// replaces the head it was made over when nothing else happened meanwhile.
    /// </summary>
    public static long RevisionClock(long current, RevisionRecord record) => Rank(record);

    /// <inheritdoc cref="RevisionClock"/>
    public static long Rank(RevisionRecord record) => record.Provisional ? record.ProvisionalRank : record.Version.Packed * ProvisionalSteps;

    /// <summary>How many provisional revisions in a row (on a node that stays cut off) still rank one above the other.</summary>
    public const long ProvisionalSteps = 32;

    /// <summary>
    /// The rank of a provisional revision replacing <paramref name="head"/> (null: a new manifest):
    /// one above it, but below the rank of any acknowledged revision newer than the acknowledged
    /// one it descends from (a chain of more than <see cref="ProvisionalSteps"/> - 1 stays at the last step).
    /// </summary>
    public static long ProvisionalRankOver(RevisionRecord? head)
    {
        var below = head is null ? 0 : Rank(head);
        return Math.Min(below + 1, below - below % ProvisionalSteps + ProvisionalSteps - 1);
    }

    /// <summary>The LWW clock for facts, as for reports: one writer per entry, always forward.</summary>
    public static long FactsClock(long current, FactsRecord facts) => Math.Max(current + 1, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());

    /// <summary>The LWW clock for reports: always forward, and at least the time the report was made.</summary>
    public static long ReportClock(long current, ApplyReport report) =>
        Math.Max(current + 1, report.Time.ToUnixTimeMilliseconds());

    /// <summary>FNV-1a of the UTF-8 name: stable across processes and releases, unlike string.GetHashCode.</summary>
    private static int Shard(string name, int shards = IndexShards)
    {
        var hash = 2166136261u;
        foreach (var b in Encoding.UTF8.GetBytes(name)) hash = (hash ^ b) * 16777619u;
        return (int)(hash % (uint)shards);
    }
}
