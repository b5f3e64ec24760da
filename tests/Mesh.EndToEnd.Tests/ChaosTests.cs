using System.Diagnostics;
using Mesh.Protocol.Api;
using Xunit.Abstractions;

namespace Mesh.EndToEnd.Tests;

/// <summary>
/// Five hosts (network namespaces, each with its own address), a mesh-node on each, one
/// operator pushing one manifest again and again through the nodes in turn with the real CLI
/// from outside (compare-and-set: each push names the head the asked node shows), while faults
/// strike: kill -9 and an immediate restart on the same address, SIGSTOP/SIGCONT, a pulled
/// link, and the node that has just acknowledged a push killed at once and kept down. The
/// schedule comes from a seed, so a failing run can be replayed (MESH_CHAOS_SEED), and the
/// faults last MESH_CHAOS_SECONDS (45 by default; the longer run behind docs/BENCHMARKS.md
/// sets more). At the end: every acknowledged version is in every node's history and none is
/// flagged lost, all nodes are one mesh with one head and the same file, and every restarted
/// node was a member again within 15 s.
/// </summary>
[Collection(EndToEndCollection.Name)]
public sealed class ChaosTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const string Manifest = "chaos";
    private static readonly TimeSpan RejoinLimit = TimeSpan.FromSeconds(15);
    private static readonly TimeSpan Slow = TimeSpan.FromSeconds(120);

    private readonly NodeGroup _nodes = NodeGroup.InTempDirectory("mesh-e2e-chaos-");
    private TestNetwork? _network;
    private readonly Dictionary<string, NodeProcess> _current = [];
    private readonly List<(string Name, string Log)> _pastLogs = [];
    private readonly object _gate = new();

    private static int Setting(string variable, int fallback) =>
        int.TryParse(Environment.GetEnvironmentVariable(variable), out var value) && value > 0 ? value : fallback;

    [SkippableFact]
    public async Task Acknowledged_pushes_survive_kills_freezes_and_cut_links_and_every_node_ends_in_one_mesh_on_one_head()
    {
        var unavailable = TestNetwork.Unavailable;
        Skip.If(unavailable is not null, $"needs network namespaces: {unavailable}");
        var seed = Setting("MESH_CHAOS_SEED", 11);
        var duration = TimeSpan.FromSeconds(Setting("MESH_CHAOS_SECONDS", 45));
        output.WriteLine($"chaos: seed {seed}, faults for {duration.TotalSeconds:0} s (MESH_CHAOS_SEED, MESH_CHAOS_SECONDS)");

        _network = TestNetwork.Create("n1", "n2", "n3", "n4", "n5");
        var config = _nodes.Write("chaos.hocon", """
            # Every revision of the run stays in history, so that none is trimmed before the check.
            mesh.history.keep = 100000
            """);
        var seeds = _network.Hosts.Select(h => $"{h.Address}:4710").ToArray();
        Task<NodeProcess> Start(string name, bool waitUntilUp = true) =>
            _nodes.StartInNamespaceAsync(name, _network[name].Namespace, _network[name].Address, seeds, ["--config", config], waitUntilUp);

        var first = await Start("n1");
        var rest = await Task.WhenAll(new[] { "n2", "n3", "n4", "n5" }.Select(n => Start(n)));
        foreach (var node in rest.Prepend(first)) _current[node.Name] = node;
        await ThreeNodeMesh.Until(async () => await AllSeeAllUp(), "every node sees five members up", Slow);

        var run = new ChaosRun(new Random(seed));
        Assert.Equal(0, (await Push(first, "base", run)).ExitCode);

        // One operator and one source of faults, side by side until the time is up.
        using var stop = new CancellationTokenSource(duration);
        await Task.WhenAll(PushAsync(run, stop.Token), FaultsAsync(run, Start, stop.Token));

        // The faults end: every node runs, thawed and linked, and the operator looks at the result.
        await HealAllAsync(run, Start);
        var settling = Stopwatch.StartNew();
        await ThreeNodeMesh.Until(async () => await AllSeeAllUp(), "every node sees five members up after the faults", Slow);
        // Compare-and-set against a replica that may still be catching up: refused until it has caught up.
        var final = await ThreeNodeMesh.Until(async () => await Push(Current("n1"), "final", run) is { ExitCode: 0 } r ? r : null,
            "the push after the faults is acknowledged", Slow);
        var head = final.Json<PushResponse>().Revisions.Single().Revision.Version.ToString();
        foreach (var node in Nodes())
            await ThreeNodeMesh.Until(() => Task.FromResult(Content(node) == "final\n"), $"{node.Name} applies the final push", Slow);
        var converged = settling.Elapsed;

        var missing = new List<string>();
        var lost = new List<string>();
        foreach (var node in Nodes())
        {
            var history = await ThreeNodeMesh.Until(async () => await node.Cli("history", Manifest, "--json") is { ExitCode: 0 } r
                && r.Json<HistoryEntry[]>() is var h && h.Any(e => e is { Head: true } && e.Revision.Version.ToString() == head) ? h : null,
                $"{node.Name} has the final push as its head", Slow);
            var versions = history.ToDictionary(e => e.Revision.Version.ToString());
            foreach (var acked in run.Acknowledged)
            {
                if (!versions.TryGetValue(acked, out var entry)) missing.Add($"{acked} on {node.Name}");
                else if (entry.Lost) lost.Add($"{acked} on {node.Name}");
            }
        }

        var summary = run.Summary(converged, Versions(missing), Versions(lost));
        output.WriteLine(summary);
        if (missing.Count > 0 || lost.Count > 0 || run.SlowRejoins.Count > 0 || run.Acknowledged.Count < 5)
        {
            // What a failing run needs to be understood: the history as n1 has it, and what each node said about membership and acks.
            output.WriteLine((await Current("n1").Cli("history", Manifest)).Out);
            KeepLogs();
            foreach (var node in Nodes())
                output.WriteLine($"--- {node.Name}\n" + string.Join("\n", node.Log.Split('\n').Where(line =>
                    line.Contains("WARN", StringComparison.Ordinal) || line.Contains("ERROR", StringComparison.Ordinal) || line.Contains("join", StringComparison.OrdinalIgnoreCase)
                    || line.Contains("Marking", StringComparison.Ordinal) || line.Contains("removing", StringComparison.OrdinalIgnoreCase)
                    || line.Contains("Leader", StringComparison.Ordinal) || line.Contains("replicated", StringComparison.Ordinal)).TakeLast(150)));
        }
        Assert.True(run.Acknowledged.Count >= 5, $"too few pushes were acknowledged to judge: {summary}");
        Assert.True(missing.Count == 0, $"acknowledged revisions missing from history: {string.Join(", ", missing)}");
        Assert.True(lost.Count == 0, $"acknowledged revisions flagged lost: {string.Join(", ", lost)}");
        Assert.True(run.SlowRejoins.Count == 0, $"restarted nodes not a member again within {RejoinLimit.TotalSeconds:0} s: {string.Join(", ", run.SlowRejoins)}");
    }

    /// <summary>
    /// The operator: one push at a time, through each node in turn, from outside the hosts (so a
    /// cut-off, frozen or dead node is simply not reached). Now and then the node that has just
    /// acknowledged a push is killed at once and kept down for a while.
    /// </summary>
    private async Task PushAsync(ChaosRun run, CancellationToken stop)
    {
        for (var i = 1; !stop.IsCancellationRequested; i++)
        {
            var via = Current($"n{(i % 5) + 1}");
            var result = await Push(via, $"v{i}", run);
            if (result.ExitCode != 0) continue;
            bool killAcker;
            lock (_gate) killAcker = run.Draw(6) == 0 && run.Healthy;
            if (!killAcker) continue;
            await via.KillAsync();
            lock (_gate) run.Faulted[via.Name] = Fault.KilledAfterAck;
            run.Count("acknowledging node killed and kept down");
            output.WriteLine($"{Clock()} killed {via.Name} right after it acknowledged v{i}");
        }
    }

    /// <summary>One fault every few seconds on a node not already struck, at most two struck at once; each repaired after a while.</summary>
    private async Task FaultsAsync(ChaosRun run, Func<string, bool, Task<NodeProcess>> start, CancellationToken stop)
    {
        var repairs = new List<Task>();
        try
        {
            while (!stop.IsCancellationRequested)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(2000 + run.Draw(4000)), stop);
                // A node killed right after its ack stays down for a while, then comes back like any restart.
                string[] keptDown;
                lock (_gate) keptDown = run.Faulted.Where(f => f.Value == Fault.KilledAfterAck && run.Restarting.Add(f.Key)).Select(f => f.Key).ToArray();
                foreach (var name in keptDown)
                    repairs.Add(Later(TimeSpan.FromMilliseconds(5000 + run.Draw(10000)), () => { }).ContinueWith(_ => RestartAsync(run, name, start)).Unwrap());

                string target;
                Fault fault;
                lock (_gate)
                {
                    var candidates = Enumerable.Range(1, 5).Select(n => $"n{n}").Where(n => !run.Faulted.ContainsKey(n)).ToArray();
                    // No new fault while a killed node is down or rejoining. Akka lets a node in only
                    // when every reachable member has seen the latest membership (convergence); a
                    // frozen or cut-off member holds that for as long as its fault lasts, so a fault
                    // started during a rejoin would measure this schedule, not the restart. A fault
                    // already under way when a node restarts still counts against its 15 s.
                    if (run.Faulted.Count >= 2 || candidates.Length == 0 || run.Faulted.Values.Any(f => f is Fault.KillRestart or Fault.KilledAfterAck)) continue;
                    // A restart is timed against its 15 s in a mesh whose other four are well: with
                    // another node frozen or cut off (or just back), three of five would be impaired
                    // and no majority left to remove the crashed incarnation. A kill drawn while the
                    // mesh is not well waits, and no other fault starts meanwhile; freezes and cuts overlap.
                    fault = run.KillPending ? Fault.KillRestart : (Fault)run.Draw(3);
                    run.KillPending = fault == Fault.KillRestart && !run.Healthy;
                    if (run.KillPending) continue;
                    target = candidates[run.Draw(candidates.Length)];
                    run.Faulted[target] = fault;
                }
                var hold = TimeSpan.FromMilliseconds(2000 + run.Draw(8000));
                output.WriteLine($"{Clock()} {fault} {target} for {hold.TotalSeconds:0.0} s");
                run.Count(fault switch { Fault.KillRestart => "kill -9 and restart", Fault.Freeze => "SIGSTOP/SIGCONT", _ => "link down/up" });
                switch (fault)
                {
                    case Fault.KillRestart:
                        await Current(target).KillAsync();
                        repairs.Add(RestartAsync(run, target, start));
                        break;
                    case Fault.Freeze:
                        Current(target).Freeze();
                        repairs.Add(Later(hold, () => { Current(target).Thaw(); Clear(run, target); }));
                        break;
                    default:
                        _network!.Cut(_network[target]);
                        repairs.Add(Later(hold, () => { _network.Heal(_network[target]); Clear(run, target); }));
                        break;
                }
            }
        }
        catch (OperationCanceledException)
        {
            // The time is up; the repairs under way finish below.
        }
        await Task.WhenAll(repairs);
    }

    private async Task RestartAsync(ChaosRun run, string name, Func<string, bool, Task<NodeProcess>> start)
    {
        var old = Current(name);
        lock (_gate) _pastLogs.Add((name, old.Log));
        await _nodes.RemoveAsync(old);
        var since = Stopwatch.StartNew();
        var node = await start(name, false);
        lock (_gate) _current[name] = node;
        try
        {
            await ThreeNodeMesh.Until(async () => await SeenUpByAll(name), $"{name} is a member again after its restart", Slow);
            run.Rejoined(name, since.Elapsed, RejoinLimit);
            output.WriteLine($"{Clock()} {name} is a member again {since.Elapsed.TotalSeconds:0.0} s after its restart");
        }
        catch (TimeoutException)
        {
            run.Rejoined(name, Slow, RejoinLimit);
            output.WriteLine($"{Clock()} {name} is not a member {Slow.TotalSeconds:0} s after its restart:\n{node.Log}");
        }
        Clear(run, name);
    }

    private async Task HealAllAsync(ChaosRun run, Func<string, bool, Task<NodeProcess>> start)
    {
        foreach (var host in _network!.Hosts) _network.Heal(host);
        foreach (var node in Nodes()) if (!node.HasExited) node.Thaw();
        string[] dead;
        lock (_gate) dead = _current.Values.Where(n => n.HasExited).Select(n => n.Name).ToArray();
        await Task.WhenAll(dead.Select(name => RestartAsync(run, name, start)));
    }

    private void Clear(ChaosRun run, string name)
    {
        lock (_gate)
        {
            run.Faulted.Remove(name);
            run.Restarting.Remove(name);
            run.LastRepair = DateTime.UtcNow;
        }
    }

    private static async Task Later(TimeSpan delay, Action then)
    {
        await Task.Delay(delay);
        then();
    }

    /// <summary>A push through <paramref name="via"/> with the real CLI from outside the hosts; the outcome is counted.</summary>
    private async Task<ProcessResult> Push(NodeProcess via, string content, ChaosRun run)
    {
        var file = _nodes.Write($"{content}.yaml",
            $"manifest: {Manifest}\nresources:\n  - {{ id: f, type: file, path: /chaos.conf, content: \"{content}\\n\" }}\n");
        ProcessResult result;
        try
        {
            result = await Binaries.RunAsync(Binaries.Cli, null, _nodes.WorkDir,
                ["--token-file", via.TokenFile, "--api", via.Api, "push", file, "-m", content, "--json"],
                TimeSpan.FromSeconds(45), new Dictionary<string, string?> { ["NO_COLOR"] = "1", ["MESH_KEY"] = null });
        }
        catch (TimeoutException)
        {
            run.Outcome("no answer (CLI killed after 45 s)");
            return new ProcessResult(-1, "", "timed out");
        }
        if (result.ExitCode == 0 && result.Json<PushResponse>().Revisions.Single() is { Unchanged: false } pushed)
        {
            run.Acknowledge(pushed.Revision.Version.ToString());
            output.WriteLine($"{Clock()} {content} acknowledged by {via.Name} as {pushed.Revision.Version}");
        }
        run.Outcome(result.ExitCode switch
        {
            0 => "acknowledged",
            3 => "node unreachable (exit 3)",
            5 => "refused: head moved on (exit 5)",
            7 => "accepted locally, not replicated (exit 7)",
            var code => $"failed (exit {code})",
        });
        return result;
    }

    private NodeProcess Current(string name)
    {
        lock (_gate) return _current[name];
    }

    private NodeProcess[] Nodes()
    {
        lock (_gate) return _current.Values.OrderBy(n => n.Name, StringComparer.Ordinal).ToArray();
    }

    private static string Content(NodeProcess node) =>
        File.Exists(node.RootPath("/chaos.conf")) ? File.ReadAllText(node.RootPath("/chaos.conf")) : "";

    private async Task<bool> AllSeeAllUp()
    {
        foreach (var node in Nodes())
            if (!await SeesAllUp(node)) return false;
        return true;
    }

    private static async Task<bool> SeesAllUp(NodeProcess node)
    {
        try
        {
            var members = await node.MembersAsync();
            return members.Count(m => m is { Status: "up", Reachable: true }) == 5 && members.Length == 5;
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or System.Text.Json.JsonException)
        {
            return false;
        }
    }

    /// <summary>Every other running node lists <paramref name="name"/> up and reachable, and the node itself says it is up.</summary>
    private async Task<bool> SeenUpByAll(string name)
    {
        foreach (var node in Nodes().Where(n => !n.HasExited))
        {
            try
            {
                var members = await node.MembersAsync();
                // WeaklyUp is Akka's member status for a node let in while another member is
                // unreachable (no convergence): it takes part in gossip, replicated data and
                // the topics, and turns Up once every member is reachable again.
                if (!members.Any(m => m is { Status: "up" or "weaklyup", Reachable: true } && m.Name == name && (node.Name != name || m.Self))) return false;
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException or System.Text.Json.JsonException)
            {
                // A frozen or cut-off peer does not answer the test: it is not the restarted node's business.
                if (node.Name == name) return false;
            }
        }
        return true;
    }

    /// <summary>
    /// With MESH_CHAOS_LOGS set to a directory, a failing run leaves there the whole log of every
    /// incarnation of every node (name-1.log is the first, and so on), for what the summary leaves out.
    /// </summary>
    private void KeepLogs()
    {
        if (Environment.GetEnvironmentVariable("MESH_CHAOS_LOGS") is not { Length: > 0 } dir) return;
        Directory.CreateDirectory(dir);
        lock (_gate)
        {
            var logs = _pastLogs.Concat(_current.Values.Select(n => (n.Name, n.Log)));
            foreach (var group in logs.GroupBy(l => l.Item1))
                foreach (var (log, i) in group.Select((l, i) => (l.Item2, i + 1)))
                    File.WriteAllText(Path.Combine(dir, $"{group.Key}-{i}.log"), log);
        }
        output.WriteLine($"the logs of every node are in {dir}");
    }

    /// <summary>How many distinct versions a list of "VERSION on NODE" names.</summary>
    private static int Versions(IEnumerable<string> onNodes) => onNodes.Select(v => v.Split(' ')[0]).Distinct().Count();

    private static string Clock() => DateTime.UtcNow.ToString("HH:mm:ss.fff");

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var node in _nodes.Nodes) if (!node.HasExited) node.Thaw();
        await _nodes.DisposeAsync();
        _network?.Dispose();
    }

    private enum Fault { KillRestart, Freeze, CutLink, KilledAfterAck }

    /// <summary>The run's seeded randomness, what is struck now, and the tallies printed at the end.</summary>
    private sealed class ChaosRun(Random random)
    {
        private readonly Dictionary<string, int> _outcomes = [];
        private readonly Dictionary<string, int> _faults = [];
        private readonly List<TimeSpan> _rejoins = [];

        public Dictionary<string, Fault> Faulted { get; } = [];
        public HashSet<string> Restarting { get; } = [];
        public DateTime LastRepair { get; set; } = DateTime.MinValue;

        /// <summary>A kill was drawn while the mesh was not well: it comes next, once it is.</summary>
        public bool KillPending { get; set; }

        /// <summary>No node struck now, and the last one repaired at least 3 s ago (caller holds the gate).</summary>
        public bool Healthy => Faulted.Count == 0 && DateTime.UtcNow - LastRepair > TimeSpan.FromSeconds(3);
        public List<string> Acknowledged { get; } = [];
        public List<string> SlowRejoins { get; } = [];

        public int Draw(int below)
        {
            lock (random) return random.Next(below);
        }

        public void Acknowledge(string version)
        {
            lock (Acknowledged) Acknowledged.Add(version);
        }

        public void Outcome(string what)
        {
            lock (_outcomes) _outcomes[what] = _outcomes.GetValueOrDefault(what) + 1;
        }

        public void Count(string fault)
        {
            lock (_faults) _faults[fault] = _faults.GetValueOrDefault(fault) + 1;
        }

        public void Rejoined(string name, TimeSpan after, TimeSpan limit)
        {
            lock (_rejoins)
            {
                _rejoins.Add(after);
                if (after > limit) SlowRejoins.Add($"{name} after {after.TotalSeconds:0.0} s");
            }
        }

        public string Summary(TimeSpan converged, int missing, int lost)
        {
            lock (_outcomes) lock (_faults) lock (_rejoins)
            {
                var rejoins = _rejoins.Order().ToArray();
                return string.Join("\n",
                [
                    $"pushes: {string.Join(", ", _outcomes.OrderBy(o => o.Key).Select(o => $"{o.Value} {o.Key}"))}",
                    $"acknowledged: {Acknowledged.Count}, of which missing from some node's history: {missing}, flagged lost: {lost}",
                    $"faults: {string.Join(", ", _faults.OrderBy(f => f.Key).Select(f => $"{f.Value} {f.Key}"))}",
                    rejoins.Length == 0 ? "restarts: none"
                        : $"restarts: {rejoins.Length}, member again after median {rejoins[rejoins.Length / 2].TotalSeconds:0.0} s, max {rejoins[^1].TotalSeconds:0.0} s",
                    $"converged (one mesh, the final push applied everywhere) {converged.TotalSeconds:0.0} s after the faults ended",
                ]);
            }
        }
    }
}
