using Akka.Actor;
using Akka.Cluster;
using Akka.DistributedData;
using Akka.Event;
using Mesh.Node.Audit;
using Mesh.Node.Configuration;
using Mesh.Node.Membership;
using Mesh.Node.Replication;
using Mesh.Node.Security;
using Mesh.Protocol.Manifests;
using Mesh.Protocol.Tasks;

namespace Mesh.Node.Tasks;

/// <summary>What a node's task runner works with.</summary>
public sealed record TaskRunnerSetup(
    NodeIdentity Identity, TaskSettings Settings, LiveSettings Live, ReplicatedStore Store, TaskJournal Journal, TaskOutputs Outputs,
    AuditLog Audit, NodeKey Key, Cluster Cluster, Facts.FleetView? Fleet = null);

/// <summary>
/// Runs on this node the tasks that target it, each once. Watches the replicated tasks and
/// results (no polling: a change wakes it), asks <see cref="TaskDecisions"/> what to do with
/// each task it has not settled, and does it: writes <c>started</c> to the
/// <see cref="TaskJournal"/> before anything runs, runs the command off the actor's thread
/// (<see cref="TaskProcess"/>; tasks run beside each other and beside the converger, never in
/// its way), keeps the output (<see cref="TaskOutputs"/>), and writes the result and the audit
/// trail. Also answers <c>mesh task get --node</c> and, once a minute, drops tasks past their
/// retention.
/// </summary>
public sealed class TaskRunner : ReceiveActor, IWithTimers
{
    public const string Name = "tasks";

    private static readonly TimeSpan CollectInterval = TimeSpan.FromMinutes(1);
    private static readonly TimeSpan BatchLook = TimeSpan.FromSeconds(5);
    /// <summary>Journal lines are kept this long past a task's expiry and retention, beyond the longest a task can run.</summary>
    private static readonly TimeSpan JournalMargin = TaskSpec.MaxTimeout + TimeSpan.FromHours(1);

    private readonly TaskRunnerSetup _setup;
    private readonly TaskDecisions _decisions;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly Dictionary<string, IReadOnlyDictionary<string, TaskRecord>> _tasks = new(StringComparer.Ordinal);
    private readonly Dictionary<string, IReadOnlyDictionary<string, TaskResult>> _results = new(StringComparer.Ordinal);
    private readonly Dictionary<string, CancellationTokenSource> _running = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _stopping = new();

    public ITimerScheduler Timers { get; set; } = null!;

    public static Props Props(TaskRunnerSetup setup) => Akka.Actor.Props.Create(() => new TaskRunner(setup));

    public TaskRunner(TaskRunnerSetup setup)
    {
        _setup = setup;
        _decisions = new TaskDecisions(setup.Identity, setup.Settings.Enabled, () => setup.Live.Current.Trust, () => setup.Fleet?.FactsOf(setup.Identity.Name));

        Receive<Changed>(c =>
        {
            if (c.Key is LWWDictionaryKey<string, TaskRecord>)
                _tasks[c.Key.Id] = ReplicatedStore.Tasks(c).ToDictionary(t => t.Id, StringComparer.Ordinal);
            else if (c.Key is LWWDictionaryKey<string, TaskResult>)
                _results[c.Key.Id] = ReplicatedStore.TaskResults(c).ToDictionary(r => Replicated.TaskResultEntry(r.TaskId, r.Node), StringComparer.Ordinal);
            Look();
        });
        Receive<LookAgain>(_ => Look());
        Receive<Finished>(OnFinished);
        Receive<CollectDue>(_ => Collect());
        Receive<TaskOutputQuery>(q =>
        {
            var self = setup.Identity.Name;
            var result = _results.Values.Select(r => r.GetValueOrDefault(Replicated.TaskResultEntry(q.TaskId, self))).FirstOrDefault(r => r is not null);
            Sender.Tell(setup.Outputs.Read(q.TaskId) is { } kept ? kept with { Result = result ?? kept.Result } : new TaskOutput(q.TaskId, self, false, Result: result));
        });
    }

    protected override void PreStart()
    {
        // A task this node started and never settled: it stopped while the task ran. Never run again.
        foreach (var (id, expires) in _setup.Journal.TakeInterrupted())
        {
            var now = DateTimeOffset.UtcNow;
            Record(new TaskResult(id, _setup.Identity.Name, TaskStates.Failed, now, Reason: "interrupted by a node restart; not run again"));
            _setup.Journal.Done(id, expires);
            _setup.Audit.Write("task interrupted", "task", id, "", "the node stopped while the task ran; not run again");
        }
        _setup.Store.SubscribeToTasks(Self);
        Timers.StartPeriodicTimer("collect", CollectDue.Instance, CollectInterval);
    }

    protected override void PostStop()
    {
        _stopping.Cancel();
    }

    private IEnumerable<TaskRecord> Tasks => _tasks.Values.SelectMany(s => s.Values);

    private ILookup<string, TaskResult> Results => _results.Values.SelectMany(s => s.Values).ToLookup(r => r.TaskId, StringComparer.Ordinal);

    private void Look()
    {
        var now = DateTimeOffset.UtcNow;
        var waiting = false;
        HashSet<string>? members = null;
        ILookup<string, TaskResult>? all = null;
        foreach (var task in Tasks)
        {
            if (_running.TryGetValue(task.Id, out var running))
            {
                if (task.Cancelled) running.Cancel();
                continue;
            }
            if (_setup.Journal.Knows(task.Id)) continue;
            var results = (all ??= Results)[task.Id].ToDictionary(r => r.Node, StringComparer.Ordinal);
            // The journal is the authority; a result of ours that is already there (a journal lost with its disk) is a second guard.
            var known = _setup.Journal.Knows(task.Id) || results.ContainsKey(_setup.Identity.Name);
            switch (_decisions.Decide(task, known, now, results, members ??= Members()))
            {
                case TaskDecision.Settle settle:
                    Settle(task, settle.State, settle.Reason);
                    break;
                case TaskDecision.Run:
                    Start(task);
                    break;
                case TaskDecision.Wait:
                    waiting = true;
                    break;
            }
        }
        // Only while a batch waits: a member the cluster removes frees its turn too.
        if (waiting) Timers.StartSingleTimer("batch", LookAgain.Instance, BatchLook);
    }

    /// <summary>
    /// The names of the active members. Unreachable ones count: a node that only missed some
    /// heartbeats on a loaded host keeps its turn; one that is really gone is downed and removed
    /// by the cluster (after the split-brain resolver's stable-after), and then frees its turn.
    /// </summary>
    private HashSet<string> Members() =>
        Membership.Members.Active(_setup.Cluster).Select(m => NodeRoles.Decode(m).Name).ToHashSet(StringComparer.Ordinal);

    private void Settle(TaskRecord task, string state, string reason)
    {
        try
        {
            _setup.Journal.Done(task.Id, task.Spec.Expires);
        }
        catch (IOException e)
        {
            _log.Warning("task {0}: cannot write the task journal ({1}); not answering it now", task.Id, e.Message);
            return;
        }
        Record(new TaskResult(task.Id, _setup.Identity.Name, state, DateTimeOffset.UtcNow, Reason: reason));
        _setup.Audit.Write("task " + state, "task", task.Id, task.Author, reason);
    }

    private void Start(TaskRecord task)
    {
        try
        {
            _setup.Journal.Start(task.Id, task.Spec.Expires);
        }
        catch (IOException e)
        {
            // Without a durable "started", running could mean running twice: do not run.
            _log.Warning("task {0}: cannot write the task journal ({1}); not running it", task.Id, e.Message);
            return;
        }
        var started = DateTimeOffset.UtcNow;
        var self = _setup.Identity.Name;
        Record(new TaskResult(task.Id, self, TaskStates.Running, started, Started: started));
        _setup.Audit.Write("task started", "task", task.Id, task.Author, task.Spec.Describe());
        var cancel = CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token);
        _running[task.Id] = cancel;
        var (settings, key) = (_setup.Settings, _setup.Key);
        Task.Run(async () =>
        {
            Dictionary<string, string> secrets;
            try
            {
                secrets = (task.Spec.Secrets ?? []).ToDictionary(s => s.Key,
                    s => System.Text.Encoding.UTF8.GetString(key.Open(s.Value, "task:" + task.Id)), StringComparer.Ordinal);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                return new TaskOutcome(false, null, TimeSpan.Zero, "", "", false, $"cannot open the secrets: {e.Message}");
            }
            return await TaskProcess.RunAsync(task.Spec, self, task.Spec.User ?? settings.DefaultUser, secrets, settings.OutputCap, cancel.Token);
        }).PipeTo(Self, success: outcome => new Finished(task, started, outcome),
            failure: e => new Finished(task, started, new TaskOutcome(false, null, TimeSpan.Zero, "", "", false, $"the runner failed: {e.GetBaseException().Message}")));
    }

    private void OnFinished(Finished finished)
    {
        var (task, outcome) = (finished.Task, finished.Outcome);
        if (_running.Remove(task.Id, out var cancel)) cancel.Dispose();
        var self = _setup.Identity.Name;
        var result = new TaskResult(task.Id, self, outcome.Ok ? TaskStates.Ok : TaskStates.Failed, DateTimeOffset.UtcNow, outcome.ExitCode, outcome.Duration,
            Cap(outcome.Stdout), Cap(outcome.Stderr), outcome.Truncated || Cap(outcome.Stdout).Length < outcome.Stdout.Length || Cap(outcome.Stderr).Length < outcome.Stderr.Length,
            outcome.Reason, finished.Started);
        _setup.Outputs.Save(new TaskOutput(task.Id, self, true, outcome.Stdout, outcome.Stderr, result));
        try
        {
            _setup.Journal.Done(task.Id, task.Spec.Expires);
        }
        catch (IOException e)
        {
            _log.Warning("task {0}: cannot write the task journal ({1}); after a restart it will be reported interrupted", task.Id, e.Message);
        }
        Record(result);
        _setup.Audit.Write("task finished", "task", task.Id, task.Author,
            $"{result.State}{(outcome.ExitCode is { } code ? $", exit {code}" : "")}, {outcome.Duration.TotalSeconds:0.###}s{(outcome.Reason is { } why ? ": " + why : "")}");
        Look();
    }

    /// <summary>The start of a stream that a replicated result carries: at most <see cref="TaskResult.OutputCap"/> bytes of UTF-8.</summary>
    private static string Cap(string text)
    {
        if (System.Text.Encoding.UTF8.GetByteCount(text) <= TaskResult.OutputCap) return text;
        var take = Math.Min(text.Length, TaskResult.OutputCap);
        while (System.Text.Encoding.UTF8.GetByteCount(text.AsSpan(0, take)) > TaskResult.OutputCap) take--;
        if (take > 0 && char.IsHighSurrogate(text[take - 1])) take--;
        return text[..take];
    }

    private void Record(TaskResult result) =>
        _setup.Store.PutTaskResultAsync(result).ContinueWith(t => _log.Warning("task {0}: cannot record the result: {1}", result.TaskId, t.Exception?.GetBaseException().Message),
            TaskContinuationOptions.OnlyOnFaulted);

    /// <summary>Drops tasks past expiry, their longest run and the retention, and journal lines far older.</summary>
    private void Collect()
    {
        var now = DateTimeOffset.UtcNow;
        var retention = _setup.Settings.Retention;
        var tasks = Tasks.ToDictionary(t => t.Id, StringComparer.Ordinal);
        var old = tasks.Values.Where(t => now > t.Spec.Expires + t.Spec.Timeout + retention && !_running.ContainsKey(t.Id)).Select(t => t.Id)
            // Results whose task is gone (a node that came back after it was dropped reported on it): once they are as old.
            .Concat(Results.Where(g => !tasks.ContainsKey(g.Key) && g.All(r => now > r.Time + retention)).Select(g => g.Key))
            .ToArray();
        if (old.Length > 0)
            _setup.Store.RemoveTasksAsync(old).ContinueWith(t => _log.Warning("cannot drop old tasks: {0}", t.Exception?.GetBaseException().Message),
                TaskContinuationOptions.OnlyOnFaulted);
        try
        {
            _setup.Journal.Compact(now - retention - JournalMargin);
        }
        catch (IOException e)
        {
            _log.Warning("cannot compact the task journal: {0}", e.Message);
        }
    }

    private sealed record Finished(TaskRecord Task, DateTimeOffset Started, TaskOutcome Outcome);

    private sealed class LookAgain
    {
        public static readonly LookAgain Instance = new();
    }

    private sealed class CollectDue
    {
        public static readonly CollectDue Instance = new();
    }
}
