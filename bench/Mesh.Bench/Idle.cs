using System.Text;
using static Mesh.Bench.Progress;

namespace Mesh.Bench;

public sealed record IdleSample(string Node, double RssMiB, double CpuPercent, long Threads);

public sealed class IdleResult(string tick, int nodes)
{
    public string Tick { get; } = tick;
    public int Nodes { get; } = nodes;
    /// <summary>As many serf agents, measured the same way right after (empty when serf is not installed).</summary>
    public List<IdleSample> Serf { get; } = [];
    public List<IdleSample> Samples { get; } = [];
    public double WindowSeconds { get; set; }
    public CpuUse? Machine { get; set; }
    public PropagationResult? Probe { get; set; }
    public IReadOnlyList<(string Line, int Count)> Warnings { get; set; } = [];
}

/// <summary>
/// Figure 3: idle footprint. A 3-node mesh (by default) holding the fleet manifests settles for a moment, then
/// sits idle for the measurement window (nothing talks to the nodes meanwhile): CPU is the
/// utime+stime each process used in the window over the window's length (% of one core), RSS is
/// VmRSS at the end. The same is done with <c>akka.scheduler.tick-duration = 100ms</c>; after each
/// window a short propagation probe shows what the tick costs in latency.
/// </summary>
public static class Idle
{
    public static async Task<IdleResult> RunAsync(string workDir, int nodeCount, string? tick, int windowSeconds, int settleSeconds, int probeRevisions, CancellationToken cancel)
    {
        var scenario = new Scenario(nodeCount, Announce: true, TickDuration: tick);
        var result = new IdleResult(scenario.Tick, nodeCount);
        Log($"idle: starting a {nodeCount}-node mesh, tick {scenario.Tick}");
        await using var mesh = await BenchMesh.StartAsync(workDir, nodeCount, scenario.Hocon, cancel);
        await Fleet.PushAndWaitAsync(mesh, cancel);
        var nodes = mesh.Nodes.ToArray();

        // Deliberate pauses: the settle time lets start-up work (JIT, first gossip rounds) end;
        // the window is the measurement itself. Nothing synchronises on them.
        Log($"idle: settling {settleSeconds} s, then measuring {windowSeconds} s");
        await Task.Delay(TimeSpan.FromSeconds(settleSeconds), cancel);
        var before = CpuSnapshot.Take(nodes);
        await Task.Delay(TimeSpan.FromSeconds(windowSeconds), cancel);
        var use = CpuSnapshot.Take(nodes).Since(before);
        result.WindowSeconds = use.WallSeconds;
        result.Machine = use;
        for (var i = 0; i < nodes.Length; i++)
            result.Samples.Add(new IdleSample(nodes[i].Name,
                ProcFs.StatusField(nodes[i].Pid, "VmRSS") / 1024.0,
                100 * use.NodeSeconds[i] / use.WallSeconds,
                ProcFs.StatusField(nodes[i].Pid, "Threads")));

        if (probeRevisions > 0)
        {
            Log($"idle: latency probe, {probeRevisions} revisions");
            result.Probe = await Propagation.RunOnAsync(mesh, scenario, probeRevisions, warmup: 3, cancel);
            result.Probe.FormTime = mesh.FormTime;
        }
        result.Warnings = mesh.Warnings();
        await mesh.DisposeAsync();

        if (SerfAgents.Installed)
        {
            Log($"idle: {nodeCount} serf agents, settling {settleSeconds} s, then measuring {windowSeconds} s");
            using var serf = await SerfAgents.StartAsync(nodeCount, cancel);
            await Task.Delay(TimeSpan.FromSeconds(settleSeconds), cancel);
            var pids = serf.Pids;
            var start = pids.Select(ProcFs.CpuSeconds).ToArray();
            var clock = System.Diagnostics.Stopwatch.StartNew();
            await Task.Delay(TimeSpan.FromSeconds(windowSeconds), cancel);
            var wall = clock.Elapsed.TotalSeconds;
            for (var i = 0; i < pids.Count; i++)
                result.Serf.Add(new IdleSample($"serf{i:00}", ProcFs.StatusField(pids[i], "VmRSS") / 1024.0,
                    100 * (ProcFs.CpuSeconds(pids[i]) - start[i]) / wall, ProcFs.StatusField(pids[i], "Threads")));
        }
        return result;
    }

    public static string Table(IReadOnlyList<IdleResult> results)
    {
        var s = new StringBuilder();
        s.AppendLine("| tick-duration | node | VmRSS (MiB) | CPU (% of one core) | threads |");
        s.AppendLine("|---|---|---:|---:|---:|");
        foreach (var r in results)
            foreach (var n in r.Samples)
                s.AppendLine($"| {r.Tick} | {n.Node} | {Stats.F(n.RssMiB, 1)} | {Stats.F(n.CpuPercent, 2)} | {n.Threads} |");
        s.AppendLine();
        s.Append("| measure (median over the nodes) |");
        foreach (var r in results) s.Append($" {r.Nodes} nodes, tick {r.Tick} |");
        s.AppendLine();
        s.Append("|---|");
        foreach (var _ in results) s.Append("---:|");
        s.AppendLine();
        void Row(string what, Func<IdleResult, string> f)
        {
            s.Append($"| {what} |");
            foreach (var r in results) s.Append($" {f(r)} |");
            s.AppendLine();
        }
        Row("VmRSS (MiB)", r => Stats.F(Stats.Median(r.Samples.Select(n => n.RssMiB)), 1));
        Row("VmRSS, largest node (MiB)", r => Stats.F(r.Samples.Select(n => n.RssMiB).DefaultIfEmpty(double.NaN).Max(), 1));
        Row("idle CPU (% of one core)", r => Stats.F(Stats.Median(r.Samples.Select(n => n.CpuPercent)), 2));
        Row("idle CPU, busiest node (% of one core)", r => Stats.F(r.Samples.Select(n => n.CpuPercent).DefaultIfEmpty(double.NaN).Max(), 2));
        Row("idle CPU, sum of all nodes (% of one core)", r => Stats.F(r.Samples.Sum(n => n.CpuPercent), 2));
        if (results.Any(r => r.Serf.Count > 0))
        {
            Row("serf agents, same count, same run: VmRSS median (MiB)", r => Stats.F(Stats.Median(r.Serf.Select(n => n.RssMiB)), 1));
            Row("serf agents: idle CPU median (% of one core)", r => Stats.F(Stats.Median(r.Serf.Select(n => n.CpuPercent)), 2));
            Row("Mesh / serf, RSS", r => r.Serf.Count == 0 ? "–" : Stats.F(Stats.Median(r.Samples.Select(n => n.RssMiB)) / Stats.Median(r.Serf.Select(n => n.RssMiB)), 1) + "×");
            Row("Mesh / serf, CPU", r => r.Serf.Count == 0 ? "–" : Stats.F(Stats.Median(r.Samples.Select(n => n.CpuPercent)) / Stats.Median(r.Serf.Select(n => n.CpuPercent)), 1) + "×");
        }
        Row("threads", r => Stats.F(Stats.Median(r.Samples.Select(n => (double)n.Threads))));
        Row("measurement window (s)", r => Stats.F(r.WindowSeconds, 1));
        Row("other processes on the machine in the window (% of one core)", r => Stats.F(r.Machine?.OthersPercentOfCore ?? double.NaN, 1));
        if (results.Any(r => r.Probe is not null))
        {
            Row("probe: revisions", r => r.Probe?.AllNodes.Count.ToString() ?? "–");
            Row("probe: all nodes p50 (ms)", r => Stats.F(r.Probe?.P50 ?? double.NaN, 1));
            Row("probe: all nodes p99 (ms)", r => Stats.F(r.Probe?.P99 ?? double.NaN, 1));
            Row("probe: all nodes max (ms)", r => Stats.F(r.Probe?.Max ?? double.NaN, 1));
        }
        return s.ToString();
    }
}
