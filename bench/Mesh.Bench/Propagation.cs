using System.Diagnostics;
using System.Text;
using Mesh.EndToEnd.Tests;
using Mesh.Protocol.Api;
using Mesh.Protocol.Wire;
using static Mesh.Bench.Progress;

namespace Mesh.Bench;

/// <summary>One mesh configuration to measure propagation on.</summary>
public sealed record Scenario(int Nodes, bool Announce, string? TickDuration = null)
{
    /// <summary>The <c>--config</c> file every node gets (null: the embedded cluster.hocon alone).</summary>
    public string? Hocon
    {
        get
        {
            var lines = new List<string>();
            if (!Announce) lines.Add("mesh.announce = off");
            if (TickDuration is not null) lines.Add($"akka.scheduler.tick-duration = {TickDuration}");
            return lines.Count == 0 ? null : string.Join('\n', lines) + "\n";
        }
    }

    public string PathName => Announce ? "announce (topics) + DData" : "DData only (announce off)";
    public string Tick => TickDuration ?? $"{EmbeddedTick} (default)";

    /// <summary>The tick the nodes get when none is given: what the repository's cluster.hocon sets.</summary>
    private static readonly string EmbeddedTick =
        System.Text.RegularExpressions.Regex.Match(File.ReadAllText(Path.Combine(Binaries.RepoRoot, "cluster.hocon")),
            @"^\s*scheduler\.tick-duration\s*=\s*(\S+)", System.Text.RegularExpressions.RegexOptions.Multiline) is { Success: true } m
            ? m.Groups[1].Value
            : "10ms"; // Akka's own default

    /// <summary>The issue's targets: with the announcement p50 ≤ 50 ms and p99 ≤ 200 ms; DData only ≤ 1 s.</summary>
    public (double P50, double P99) Target => Announce ? (50, 200) : (1000, 1000);
}

/// <summary>What one propagation run measured.</summary>
public sealed class PropagationResult(Scenario scenario)
{
    public Scenario Scenario { get; } = scenario;
    public TimeSpan FormTime { get; set; }
    /// <summary>Per counted revision: max over the nodes of (report time − revision time), ms.</summary>
    public List<double> AllNodes { get; } = [];
    /// <summary>Every (revision, node) pair: report time − revision time, ms.</summary>
    public List<double> PerNode { get; } = [];
    public List<double> Warmup { get; } = [];
    /// <summary>Round trip of POST /v1/push as the client sees it, ms.</summary>
    public List<double> PushRoundTrip { get; } = [];
    /// <summary>The nodes' own apply durations (ApplyReport.DurationMs).</summary>
    public List<double> ApplyDuration { get; } = [];
    /// <summary>Per node: report time − revision time, ms, of every counted revision.</summary>
    public SortedDictionary<string, List<double>> ByNode { get; } = new(StringComparer.Ordinal);
    public int Failed { get; set; }
    public int PushErrors { get; set; }
    /// <summary>CPU used while the counted revisions ran.</summary>
    public CpuUse? Cpu { get; set; }
    public List<string> Problems { get; } = [];
    public IReadOnlyList<(string Line, int Count)> Warnings { get; set; } = [];

    public double P50 => Stats.Percentile(AllNodes, 50);
    public double P99 => Stats.Percentile(AllNodes, 99);
    public double Max => AllNodes.Count == 0 ? double.NaN : AllNodes.Max();
}

/// <summary>
/// Figure 1: push accepted → applied on every targeted node. Revisions of one small manifest
/// (targeting every node, a file whose content changes each time) are pushed one after another,
/// rotating over the nodes as the receiving node; each waits until every node has reported it.
/// </summary>
public static class Propagation
{
    private static readonly TimeSpan RevisionTimeout = TimeSpan.FromSeconds(30);
    public const string ManifestName = "bench-propagation";

    public static async Task<PropagationResult> RunAsync(Scenario scenario, string workDir, int revisions, int warmup, int settleSeconds, CancellationToken cancel)
    {
        Log($"propagation: starting {scenario.Nodes} nodes ({scenario.PathName}, tick {scenario.Tick})");
        await using var mesh = await BenchMesh.StartAsync(workDir, scenario.Nodes, scenario.Hocon, cancel);
        Log($"propagation: {scenario.Nodes} nodes up in {mesh.FormTime.TotalSeconds:0.0} s; pushing {warmup} warm-up + {revisions} revisions");
        // Optional deliberate pause: lets start-up work (JIT, first gossip rounds) end before the first push.
        if (settleSeconds > 0) await Task.Delay(TimeSpan.FromSeconds(settleSeconds), cancel);
        var result = await RunOnAsync(mesh, scenario, revisions, warmup, cancel);
        result.FormTime = mesh.FormTime;
        return result;
    }

    /// <summary>Measures on a mesh that is already up.</summary>
    public static async Task<PropagationResult> RunOnAsync(BenchMesh mesh, Scenario scenario, int revisions, int warmup, CancellationToken cancel)
    {
        var result = new PropagationResult(scenario);
        var nodes = mesh.Nodes.ToArray();
        await using var feed = await mesh.FollowReportsAsync(nodes[0], cancel);
        CpuSnapshot? cpuBefore = null;
        var run = Guid.NewGuid().ToString("N")[..8];
        var clock = new Stopwatch();

        for (var i = -warmup; i < revisions; i++)
        {
            if (i == 0) cpuBefore = CpuSnapshot.Take(nodes);
            var via = nodes[((i % nodes.Length) + nodes.Length) % nodes.Length];
            clock.Restart();
            PushResponse push;
            try
            {
                push = await mesh.PushAsync(via, "bench.yaml", Manifest($"{run} revision {i}"), $"bench revision {i}", cancel);
            }
            catch (Exception e) when (e is PushRefusedException or HttpRequestException or TaskCanceledException && !cancel.IsCancellationRequested)
            {
                // A refused or failed push is a result too: note it, with what the node logged, and go on.
                result.PushErrors++;
                var log = e is PushRefusedException r && r.NodeLog.Length > 0 ? $"; node log: {r.NodeLog.Replace('\n', ' ')}" : "";
                result.Problems.Add($"revision {i}: push to {via.Name} failed after {clock.Elapsed.TotalMilliseconds:0} ms: {e.Message}{log}");
                Log($"propagation: revision {i}: push to {via.Name} failed: {e.Message}");
                if (result.PushErrors >= 5) throw new InvalidOperationException($"5 pushes failed; last: {e.Message}{log}", e);
                continue;
            }
            var pushMs = clock.Elapsed.TotalMilliseconds;
            var pushed = push.Revisions.Single();
            if (pushed.Unchanged) throw new InvalidOperationException("the node took a changed manifest for an unchanged one");
            var revision = pushed.Revision;
            if (pushed.Targets.Length != nodes.Length)
                result.Problems.Add($"revision {i}: {pushed.Targets.Length} targets instead of {nodes.Length} ({string.Join(",", pushed.Targets)})");

            var reports = await CollectAsync(feed, nodes, revision, cancel);
            var latencies = new List<double>();
            foreach (var node in nodes)
            {
                if (!reports.TryGetValue(node.Name, out var report))
                {
                    result.Problems.Add($"revision {i}: no report from {node.Name} within {RevisionTimeout.TotalSeconds:0} s");
                    continue;
                }
                if (!report.Succeeded)
                {
                    result.Failed++;
                    result.Problems.Add($"revision {i}: {node.Name} failed: {report.Error}");
                }
                var latency = (report.Time - revision.Time).TotalMilliseconds;
                latencies.Add(latency);
                if (i >= 0)
                {
                    result.ApplyDuration.Add(report.DurationMs);
                    if (!result.ByNode.TryGetValue(node.Name, out var mine)) result.ByNode[node.Name] = mine = [];
                    mine.Add(latency);
                }
            }
            if (latencies.Count == 0) continue;
            if (i < 0)
            {
                result.Warmup.Add(latencies.Max());
                continue;
            }
            result.PushRoundTrip.Add(pushMs);
            if (latencies.Count == nodes.Length) result.AllNodes.Add(latencies.Max());
            result.PerNode.AddRange(latencies);
        }
        if (cpuBefore is not null) result.Cpu = CpuSnapshot.Take(nodes).Since(cpuBefore);
        result.Warnings = mesh.Warnings();
        return result;
    }

    /// <summary>Waits for every node's own report of <paramref name="revision"/>; falls back to asking the nodes.</summary>
    private static async Task<Dictionary<string, ApplyReport>> CollectAsync(ReportFeed feed, NodeProcess[] nodes, RevisionRecord revision, CancellationToken cancel)
    {
        var version = revision.Version.ToString();
        var reports = new Dictionary<string, ApplyReport>(StringComparer.Ordinal);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancel);
        timeout.CancelAfter(RevisionTimeout);
        try
        {
            while (reports.Count < nodes.Length)
            {
                var report = await feed.Reports.ReadAsync(timeout.Token);
                if (report.Manifest == revision.Manifest && report.Version.ToString() == version) reports.TryAdd(report.Node, report);
            }
        }
        catch (OperationCanceledException) when (!cancel.IsCancellationRequested)
        {
            // Some node did not report on its stream in time: ask it (its status map is the sure path).
            foreach (var node in nodes.Where(n => !reports.ContainsKey(n.Name)))
            {
                try
                {
                    var status = (await node.StatusAsync()).Manifests;
                    var own = status.FirstOrDefault(s => s.Node == node.Name && s.Manifest == revision.Manifest);
                    if (own?.Report is { } r && r.Version.ToString() == version) reports[node.Name] = r;
                }
                catch (HttpRequestException)
                {
                    // Counted as missing.
                }
            }
        }
        return reports;
    }

    private static string Manifest(string value) => $"""
        manifest: {ManifestName}
        resources:
          - id: value
            type: file
            path: /bench-value.txt
            mode: "0644"
            content: |
              {value}
        """;

    public static string Table(IReadOnlyList<PropagationResult> results)
    {
        var s = new StringBuilder();
        s.AppendLine("| nodes | path | tick | revisions | all nodes p50 (ms) | p99 (ms) | max (ms) | per-node median (ms) | p50 / target | p99 / target | failed | missing | push errors |");
        s.AppendLine("|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var r in results)
        {
            var (t50, t99) = r.Scenario.Target;
            var missing = r.Problems.Count(p => p.Contains("no report", StringComparison.Ordinal));
            s.AppendLine($"| {r.Scenario.Nodes} | {r.Scenario.PathName} | {r.Scenario.Tick} | {r.AllNodes.Count} | {Stats.F(r.P50, 1)} | {Stats.F(r.P99, 1)} | {Stats.F(r.Max, 1)} | {Stats.F(Stats.Median(r.PerNode), 1)} | {Stats.Ratio(r.P50, t50)} (≤ {t50:0}) | {Stats.Ratio(r.P99, t99)} (≤ {t99:0}) | {r.Failed} | {missing} | {r.PushErrors} |");
        }
        s.AppendLine();
        s.AppendLine("| nodes | path | tick | cluster formed (s) | push round trip median (ms) | apply duration median / max (ms) | CPU per revision per node, median (ms) | node CPU during the run, median (% of one core) | machine busy during the run (% of all cores) | other processes during the run (% of one core) | warm-up revisions, all nodes (ms, not counted) |");
        s.AppendLine("|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---|");
        foreach (var r in results)
        {
            var count = Math.Max(1, r.AllNodes.Count);
            var cpu = r.Cpu is null ? "–" : Stats.F(Stats.Median(r.Cpu.NodeSeconds.Select(c => c * 1000 / count)), 1);
            var busy = r.Cpu is null ? "–" : Stats.F(r.Cpu.MachineBusyPercent);
            var share = r.Cpu is null ? "–" : Stats.F(Stats.Median(r.Cpu.NodeSeconds.Select(c => 100 * c / r.Cpu.WallSeconds)), 1);
            var others = r.Cpu is null ? "–" : Stats.F(r.Cpu.OthersPercentOfCore);
            s.AppendLine($"| {r.Scenario.Nodes} | {r.Scenario.PathName} | {r.Scenario.Tick} | {r.FormTime.TotalSeconds:0.0} | {Stats.F(Stats.Median(r.PushRoundTrip), 1)} | {Stats.F(Stats.Median(r.ApplyDuration))} / {Stats.F(r.ApplyDuration.DefaultIfEmpty(double.NaN).Max())} | {cpu} | {share} | {busy} | {others} | {string.Join(", ", r.Warmup.Select(w => Stats.F(w)))} |");
        }
        foreach (var r in results.Where(r => r.Problems.Count > 0))
        {
            s.AppendLine();
            s.AppendLine($"Problems at {r.Scenario.Nodes} nodes, {r.Scenario.PathName}:");
            foreach (var p in r.Problems.Take(10)) s.AppendLine($"- {(p.Length > 600 ? p[..600] + "…" : p)}");
            if (r.Problems.Count > 10) s.AppendLine($"- … {r.Problems.Count - 10} more");
        }
        return s.ToString();
    }

    /// <summary>The spread of the all-nodes latency, in buckets, for one result.</summary>
    public static string Histogram(PropagationResult r)
    {
        double[] edges = [10, 20, 50, 100, 200, 500, 1000, 2000];
        var s = new StringBuilder($"{r.Scenario.Nodes} nodes, {r.Scenario.PathName}, tick {r.Scenario.Tick}: ");
        var parts = new List<string>();
        double lower = 0;
        foreach (var edge in edges.Append(double.PositiveInfinity))
        {
            var count = r.AllNodes.Count(v => v >= lower && v < edge);
            if (count > 0) parts.Add(double.IsPositiveInfinity(edge) ? $"≥{lower:0} ms: {count}" : $"{lower:0}–{edge:0} ms: {count}");
            lower = edge;
        }
        return s.Append(string.Join(", ", parts)).ToString();
    }

    /// <summary>Median latency of each node, the pushing node included (pushes rotate over the nodes).</summary>
    public static string PerNodeLine(PropagationResult r) =>
        $"{r.Scenario.Nodes} nodes, {r.Scenario.PathName}, tick {r.Scenario.Tick}: " +
        string.Join(", ", r.ByNode.Select(kv => $"{kv.Key} {Stats.F(Stats.Median(kv.Value))}"));
}
