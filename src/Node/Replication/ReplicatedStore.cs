using Akka.Actor;
using Akka.Cluster;
using Akka.DistributedData;
using Mesh.Node.Observability;
using Mesh.Protocol.Tasks;
using Mesh.Protocol.Wire;

namespace Mesh.Node.Replication;

/// <summary>
/// The one door to the replicated state (as Akka's <c>DistributedData</c> wraps its
/// <c>Replicator</c>): every read and write of the index, the history and the reports goes
/// through here, as typed values. One rule for all: this node's replica is asked locally, and a
/// replicator that does not answer within <see cref="Timeout"/>, or fails to store a change, is
/// a <see cref="StoreUnavailableException"/>, never a silent empty answer.
/// </summary>
/// <param name="timeout">How long a local read or write may take (<c>mesh.store.timeout</c>); null: <see cref="DefaultTimeout"/>.</param>
public sealed class ReplicatedStore(IActorRef replicator, UniqueAddress self, MeshMetrics metrics, TimeSpan? timeout = null) : Converge.IConvergeStore
{
    /// <summary>
    /// A local write is answered once the durable store has flushed it to disk, and that flush
    /// waits for the whole file system: on a busy host (a build, a backup) it takes seconds, and
    /// a starved CPU delays the replicator too. A deadline of a few seconds turned good pushes into
    /// errors; this one is for a store that is stuck, not slow.
    /// </summary>
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(15);

    /// <summary>How long a local read or write may take, the durable store's write included.</summary>
    public TimeSpan Timeout { get; } = timeout ?? DefaultTimeout;

    // ---- reads ----------------------------------------------------------------------------------

    /// <summary>Manifest name → head revision, tombstones included, as this node knows it.</summary>
    /// <param name="consistency">null: this node's replica; <c>ReadMajority</c>: merged with a majority's (and this replica repaired)</param>
    public async Task<IReadOnlyDictionary<string, RevisionRecord>> IndexAsync(IReadConsistency? consistency = null)
    {
        var shards = await Task.WhenAll(Replicated.Index.Select(key => ReadAsync(key, consistency)));
        return shards.SelectMany(s => s).ToDictionary(kv => kv.Key, kv => kv.Value, StringComparer.Ordinal);
    }

    /// <summary>A manifest's head (possibly a tombstone), or null when it never existed here.</summary>
    /// <param name="consistency">null: this node's replica; as for <see cref="IndexAsync"/></param>
    public async Task<RevisionRecord?> HeadAsync(string manifest, IReadConsistency? consistency = null) =>
        (await ReadAsync(Replicated.IndexOf(manifest), consistency)).GetValueOrDefault(manifest);

    /// <summary>Every retained revision of a manifest, newest first.</summary>
    public async Task<IReadOnlyList<RevisionRecord>> HistoryAsync(string manifest) =>
        (await ReadAsync(Replicated.HistoryOf(manifest))).Values.Where(r => r.Manifest == manifest).OrderByDescending(r => r.Version).ToArray();

    /// <summary>The retained revisions of several manifests, by manifest (each shard read once).</summary>
    public async Task<ILookup<string, RevisionRecord>> HistoriesAsync(IEnumerable<string> manifests)
    {
        var shards = await Task.WhenAll(manifests.Select(Replicated.HistoryOf).Distinct().Select(ReadAsync));
        return shards.SelectMany(s => s.Values).ToLookup(r => r.Manifest, StringComparer.Ordinal);
    }

    /// <summary>Every retained revision of every manifest.</summary>
    public async Task<IReadOnlyList<RevisionRecord>> AllHistoryAsync() =>
        (await Task.WhenAll(Replicated.History.Select(ReadAsync))).SelectMany(s => s.Values).ToArray();

    /// <summary>Manifest name → the latest report of one node, as this node knows it.</summary>
    public Task<IReadOnlyDictionary<string, ApplyReport>> ReportsOfAsync(string node) => ReadAsync(Replicated.StatusOf(node));

    /// <summary>Every task this node knows: task id → record, cancelled ones included.</summary>
    public async Task<IReadOnlyDictionary<string, TaskRecord>> TasksAsync() =>
        (await Task.WhenAll(Replicated.Tasks.Select(ReadAsync))).SelectMany(s => s).ToDictionary(kv => kv.Key, kv => kv.Value, StringComparer.Ordinal);

    /// <summary>One task, or null when this node does not know it.</summary>
    public async Task<TaskRecord?> TaskAsync(string id) => (await ReadAsync(Replicated.TaskShardOf(id))).GetValueOrDefault(id);

    /// <summary>Every node's result of every task this node knows of, by task id.</summary>
    public async Task<ILookup<string, TaskResult>> TaskResultsAsync() =>
        (await Task.WhenAll(Replicated.TaskResults.Select(ReadAsync))).SelectMany(s => s.Values).ToLookup(r => r.TaskId, StringComparer.Ordinal);

    /// <summary>A node's result of a task, or null.</summary>
    public async Task<TaskResult?> TaskResultAsync(string taskId, string node) =>
        (await ReadAsync(Replicated.TaskResultShardOf(taskId, node))).GetValueOrDefault(Replicated.TaskResultEntry(taskId, node));

    // ---- writes ---------------------------------------------------------------------------------

    /// <summary>Records a new task (done when this node's replica, and so its durable store, holds it).</summary>
    public Task PostTaskAsync(TaskRecord task) =>
        UpdateAsync(Replicated.TaskShardOf(task.Id), d => d.SetItem(self, task.Id, task, Replicated.ForwardClock));

    /// <summary>Marks a task cancelled; nothing when this node does not know it.</summary>
    public Task CancelTaskAsync(string id, string by) =>
        UpdateAsync(Replicated.TaskShardOf(id), d => d.TryGetValue(id, out var task) && !task.Cancelled
            ? d.SetItem(self, id, task with { Cancelled = true, CancelledBy = by }, Replicated.ForwardClock)
            : d);

    /// <summary>This node's result of a task (only that node writes it), awaited: the runner records "running" before it runs anything.</summary>
    public Task PutTaskResultAsync(TaskResult result) =>
        UpdateAsync(Replicated.TaskResultShardOf(result.TaskId, result.Node),
            d => d.SetItem(self, Replicated.TaskResultEntry(result.TaskId, result.Node), result, Replicated.ForwardClock));

    /// <summary>Drops tasks past their retention, with every result of them this node knows.</summary>
    public async Task RemoveTasksAsync(IReadOnlyCollection<string> ids)
    {
        if (ids.Count == 0) return;
        var gone = ids.ToHashSet(StringComparer.Ordinal);
        foreach (var shard in ids.Select(Replicated.TaskShardOf).Distinct())
            await UpdateAsync(shard, d => gone.Where(d.ContainsKey).Aggregate(d, (acc, id) => acc.Remove(self, id)));
        foreach (var shard in Replicated.TaskResults)
            await UpdateAsync(shard, d => d.Entries.Where(e => gone.Contains(e.Value.TaskId)).Aggregate(d, (acc, e) => acc.Remove(self, e.Key)));
    }
    /// <summary>Every rollout record, by manifest, as this node knows it.</summary>
    public async Task<IReadOnlyDictionary<string, RolloutRecord>> RolloutsAsync()
    {
        var shards = await Task.WhenAll(Replicated.Rollouts.Select(ReadAsync));
        return shards.SelectMany(s => s).ToDictionary(kv => kv.Key, kv => kv.Value, StringComparer.Ordinal);
    }

    /// <summary>A manifest's latest rollout, or null.</summary>
    /// <param name="consistency">null: this node's replica; as for <see cref="IndexAsync"/></param>
    public async Task<RolloutRecord?> RolloutAsync(string manifest, IReadConsistency? consistency = null) =>
        (await ReadAsync(Replicated.RolloutOf(manifest), consistency)).GetValueOrDefault(manifest);

    /// <summary>Each node's step in a manifest's latest rollout, by node.</summary>
    /// <param name="consistency">null: this node's replica; as for <see cref="IndexAsync"/></param>
    public async Task<IReadOnlyDictionary<string, RolloutStep>> StepsAsync(string manifest, IReadConsistency? consistency = null) =>
        (await ReadAsync(Replicated.RolloutStepsOf(manifest), consistency)).Values.Where(s => s.Manifest == manifest)
            .ToDictionary(s => s.Node, StringComparer.Ordinal);

    // ---- writes ---------------------------------------------------------------------------------

    /// <summary>A rollout record (a push's, or an operator's pause, resume or abort): done when this node's replica holds it.</summary>
    public Task PutRolloutAsync(RolloutRecord record) =>
        UpdateAsync(Replicated.RolloutOf(record.Manifest), d => d.SetItem(self, record.Manifest, record, Replicated.RolloutClock));

    /// <summary>This node's step in a rollout (only this node writes its entry). Not awaited: the steps go on.</summary>
    public void PutStep(RolloutStep step) =>
        replicator.Tell(Dsl.Update(Replicated.RolloutStepsOf(step.Manifest), LWWDictionary<string, RolloutStep>.Empty, WriteLocal.Instance,
            d => d.SetItem(self, Replicated.StepEntry(step), step, Replicated.StepClock)));

    /// <summary>
    /// Makes a revision the head of its manifest and adds it to the manifest's history, dropping
    /// the oldest entries beyond <paramref name="keep"/>. Always done on this node's replica (and
    /// so its durable store); gossip takes them to the others.
    /// </summary>
    /// <param name="consistency">null or <c>WriteLocal</c>: done when this node holds both;
    /// <c>WriteMajority</c>/<c>WriteAll</c>: also sent to that many members and waited for.</param>
    /// <returns>false when those members did not confirm within the consistency's timeout: written
    /// here and spreading, but not confirmed.</returns>
    public async Task<bool> RecordAsync(RevisionRecord record, int keep, IWriteConsistency? consistency = null)
    {
        // Two keys, written side by side: a quorum's round trips overlap instead of adding up.
        var index = UpdateAsync(Replicated.IndexOf(record.Manifest), d => d.SetItem(self, record.Manifest, record, Replicated.RevisionClock), consistency);
        var history = UpdateAsync(Replicated.HistoryOf(record.Manifest), history =>
        {
            history = history.SetItem(self, Replicated.HistoryEntry(record), record, Replicated.RevisionClock);
            foreach (var old in history.Entries.Where(e => e.Value.Manifest == record.Manifest)
                         .OrderByDescending(e => e.Value.Version).Skip(keep).Select(e => e.Key).ToArray())
                history = history.Remove(self, old);
            return history;
        }, consistency);
        return (await Task.WhenAll(index, history)).All(confirmed => confirmed);
    }

    /// <summary>
    /// Sends this node's index and history shards of a manifest, as they are, to the members
    /// <paramref name="consistency"/> asks for (an unchanged write: the others merge it);
    /// true when they confirmed in time. How a revision accepted while not replicated gets confirmed later.
    /// </summary>
    public async Task<bool> ConfirmAsync(string manifest, IWriteConsistency consistency) =>
        await UpdateAsync(Replicated.IndexOf(manifest), d => d, consistency) &&
        await UpdateAsync(Replicated.HistoryOf(manifest), d => d, consistency);

    /// <summary>This node's latest report for a manifest, into its own status key (only this node writes it). Not awaited: the converger goes on.</summary>
    public void PutReport(ApplyReport report) =>
        replicator.Tell(Dsl.Update(Replicated.StatusOf(report.Node), LWWDictionary<string, ApplyReport>.Empty, WriteLocal.Instance,
            d => d.SetItem(self, report.Manifest, report, Replicated.ReportClock)));

    /// <summary>Drops this node's report for a manifest it no longer enforces.</summary>
    public void RemoveReport(string node, string manifest) =>
        replicator.Tell(Dsl.Update(Replicated.StatusOf(node), LWWDictionary<string, ApplyReport>.Empty, WriteLocal.Instance,
            d => d.Remove(self, manifest)));

    /// <summary>This node's facts, into its entry of its facts shard (only this node writes it). Not awaited.</summary>
    public void PutFacts(FactsRecord facts) =>
        replicator.Tell(Dsl.Update(Replicated.FactsOf(facts.Node), LWWDictionary<string, FactsRecord>.Empty, WriteLocal.Instance,
            d => d.SetItem(self, facts.Node, facts, Replicated.FactsClock)));

    /// <summary>Records a host attached to this node (a core peer): written here and spread by gossip. Not awaited.</summary>
    public void PutAttached(AttachedHostRecord host) =>
        replicator.Tell(Dsl.Update(Replicated.Attached, LWWDictionary<string, AttachedHostRecord>.Empty, WriteLocal.Instance,
            d => d.SetItem(self, host.Name, host, Replicated.AttachedClock)));

    /// <summary>Forgets attached hosts (gone from their peer, or their peer gone). Not awaited.</summary>
    public void RemoveAttached(IReadOnlyCollection<string> hosts) =>
        replicator.Tell(Dsl.Update(Replicated.Attached, LWWDictionary<string, AttachedHostRecord>.Empty, WriteLocal.Instance,
            d => hosts.Aggregate(d, (current, host) => current.Remove(self, host))));

    /// <summary>Every attached host the core knows of, by name.</summary>
    public Task<IReadOnlyDictionary<string, AttachedHostRecord>> AttachedAsync() => ReadAsync(Replicated.Attached);

    /// <summary>Tells <paramref name="subscriber"/> of every change of the attached hosts (read them with <see cref="AttachedHosts"/>).</summary>
    public void SubscribeToAttached(IActorRef subscriber) => replicator.Tell(new Subscribe(Replicated.Attached, subscriber));

    /// <summary>The attached hosts a change of their registry holds: all of them (none for any other key).</summary>
    public static IReadOnlyDictionary<string, AttachedHostRecord>? AttachedHosts(Changed changed) =>
        changed.Key.Equals(Replicated.Attached) ? changed.Get(Replicated.Attached).Entries : null;

    // ---- changes --------------------------------------------------------------------------------

    /// <summary>Tells <paramref name="subscriber"/> of every change of the index (as <see cref="Changed"/>; read it with <see cref="Revisions"/>).</summary>
    public void SubscribeToIndex(IActorRef subscriber)
    {
        Subscribe(Replicated.Index, subscriber);
    }

    /// <summary>Tells <paramref name="subscriber"/> of every change of one node's reports (read them with <see cref="Reports"/>).</summary>
    public void SubscribeToReportsOf(string node, IActorRef subscriber) => replicator.Tell(new Subscribe(Replicated.StatusOf(node), subscriber));

    /// <summary>Tells <paramref name="subscriber"/> of every change of the facts (read them with <see cref="Facts"/>).</summary>
    public void SubscribeToFacts(IActorRef subscriber)
    {
        Subscribe(Replicated.Facts, subscriber);
    }

    /// <summary>The facts a change of a facts shard carries (none for any other key).</summary>
    public static IEnumerable<FactsRecord> Facts(Changed changed) =>
        ValuesOf<FactsRecord>(changed);

    /// <summary>Tells <paramref name="subscriber"/> of every change of the tasks and their results (read them with <see cref="Tasks"/> and <see cref="TaskResults"/>).</summary>
    public void SubscribeToTasks(IActorRef subscriber)
    {
        Subscribe(Replicated.Tasks, subscriber);
        Subscribe(Replicated.TaskResults, subscriber);
    }

    /// <summary>The tasks a change of a task shard carries (none for any other key).</summary>
    public static IEnumerable<TaskRecord> Tasks(Changed changed) =>
        ValuesOf<TaskRecord>(changed);

    /// <summary>The results a change of a result shard carries (none for any other key).</summary>
    public static IEnumerable<TaskResult> TaskResults(Changed changed) =>
        ValuesOf<TaskResult>(changed);

    /// <summary>Tells <paramref name="subscriber"/> of every change of the rollout records and steps (read them with <see cref="Rollouts"/> and <see cref="Steps"/>).</summary>
    public void SubscribeToRollouts(IActorRef subscriber)
    {
        Subscribe(Replicated.Rollouts, subscriber);
        Subscribe(Replicated.RolloutSteps, subscriber);
    }

    /// <summary>The rollout records a change carries (none for any other key).</summary>
    public static IEnumerable<RolloutRecord> Rollouts(Changed changed) =>
        ValuesOf<RolloutRecord>(changed);

    /// <summary>The rollout steps a change carries (none for any other key).</summary>
    public static IEnumerable<RolloutStep> Steps(Changed changed) =>
        ValuesOf<RolloutStep>(changed);

    /// <summary>The values a change of one of the dictionaries of <typeparamref name="T"/> carries (none for a key of another type).</summary>
    private static IEnumerable<T> ValuesOf<T>(Changed changed) =>
        changed.Key is LWWDictionaryKey<string, T> key ? changed.Get(key).Entries.Values : [];

    private void Subscribe<T>(IEnumerable<LWWDictionaryKey<string, T>> shards, IActorRef subscriber)
    {
        foreach (var shard in shards) replicator.Tell(new Subscribe(shard, subscriber));
    }

    /// <summary>The revisions a change of an index shard carries (none for any other key).</summary>
    public static IEnumerable<RevisionRecord> Revisions(Changed changed) =>
        ValuesOf<RevisionRecord>(changed);

    /// <summary>The reports a change of a status key carries (none for any other key).</summary>
    public static IEnumerable<ApplyReport> Reports(Changed changed) =>
        ValuesOf<ApplyReport>(changed);

    // ---- the replicator's protocol ---------------------------------------------------------------

    private async Task<IReadOnlyDictionary<string, T>> ReadAsync<T>(LWWDictionaryKey<string, T> key) => await ReadAsync(key, null);

    private async Task<IReadOnlyDictionary<string, T>> ReadAsync<T>(LWWDictionaryKey<string, T> key, IReadConsistency? consistency)
    {
        var response = await Ask<IGetResponse>(Dsl.Get(key, consistency ?? ReadLocal.Instance), key, Timeout + (consistency?.Timeout ?? TimeSpan.Zero));
        return response switch
        {
            GetSuccess success => success.Get(key).Entries,
            NotFound => new Dictionary<string, T>(),
            _ => throw new StoreUnavailableException($"the node's replicated store could not read {key.Id} ({response.GetType().Name})"),
        };
    }

    private async Task UpdateAsync<T>(LWWDictionaryKey<string, T> key, Func<LWWDictionary<string, T>, LWWDictionary<string, T>> modify) =>
        await UpdateAsync(key, modify, null);

    /// <summary>True when written as <paramref name="consistency"/> asks; false when only this node's write is sure (the others did not confirm in time).</summary>
    private async Task<bool> UpdateAsync<T>(LWWDictionaryKey<string, T> key, Func<LWWDictionary<string, T>, LWWDictionary<string, T>> modify,
        IWriteConsistency? consistency)
    {
        consistency ??= WriteLocal.Instance;
        var response = await Ask<IUpdateResponse>(Dsl.Update(key, LWWDictionary<string, T>.Empty, consistency, modify), key, Timeout + consistency.Timeout);
        // The local write and its durable store succeeded; the members asked for did not all answer.
        if (response is UpdateTimeout && consistency is not WriteLocal) return false;
        if (response is not UpdateSuccess)
            throw new StoreUnavailableException(response is StoreFailure
                ? $"the node could not write {key.Id} to its durable store ({DurableStore.LastFailure(self.Address) ?? "disk full or unwritable?"}); the change is not recorded"
                : $"the node's replicated store refused the change of {key.Id} ({response.GetType().Name})");
        return true;
    }

    private async Task<T> Ask<T>(object message, IKey key) => await Ask<T>(message, key, Timeout);

    private async Task<T> Ask<T>(object message, IKey key, TimeSpan timeout)
    {
        using var timer = metrics.TimeStore(message is Get ? "read" : "write");
        try
        {
            return await replicator.Ask<T>(message, timeout);
        }
        catch (AskTimeoutException)
        {
            throw new StoreUnavailableException(
                $"the node's replicated store did not answer within {timeout.TotalSeconds:0}s about {key.Id} (node overloaded? mesh.store.timeout); retry the request");
        }
    }
}

/// <summary>This node's replicated store could not answer or store a change; the message says what and why.</summary>
public sealed class StoreUnavailableException(string message) : Exception(message);
