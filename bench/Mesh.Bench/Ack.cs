using System.Diagnostics;
using System.Text;
using Mesh.Protocol.Api;

namespace Mesh.Bench;

/// <summary>
/// What "acknowledged means replicated" costs: on a mesh of N nodes, the wall time of
/// <c>POST /v1/push</c> (the node's answer, the CLI left out) with <c>ack = local</c>,
/// <c>majority</c> and <c>all</c>, each push a new revision of one small manifest through the
/// same node. One uncounted push per level first (JIT, connections).
/// </summary>
public static class Ack
{
    public static readonly AckLevel[] Levels = [AckLevel.Local, AckLevel.Majority, AckLevel.All];

    public static async Task<AckResult> RunAsync(string workDir, int nodes, int samples, CancellationToken cancel)
    {
        await using var mesh = await BenchMesh.StartAsync(workDir, nodes, hocon: null, cancel);
        var via = mesh.Nodes[0];
        var times = Levels.ToDictionary(l => l, _ => new List<double>());
        var missed = Levels.ToDictionary(l => l, _ => 0);
        var push = 0;
        // Interleaved, so a slow spell of the machine weighs on every level alike.
        for (var sample = 0; sample <= samples; sample++)
            foreach (var level in Levels)
            {
                var yaml = $"manifest: ack-bench\nresources:\n  - {{ id: f, type: file, path: /ack-bench, content: \"push {push++}\\n\" }}\n";
                var clock = Stopwatch.StartNew();
                var answer = await mesh.PushAsync(via, "ack-bench.yaml", yaml, $"{level} {sample}", cancel, level);
                clock.Stop();
                if (sample == 0) continue;
                times[level].Add(clock.Elapsed.TotalMilliseconds);
                if (answer.Ack is { Reached: false }) missed[level]++;
            }
        return new AckResult(nodes, samples, Levels.Select(l => (l, times[l].ToArray(), missed[l])).ToArray(), mesh.Warnings());
    }

    public static string Table(IEnumerable<AckResult> results)
    {
        var s = new StringBuilder();
        s.AppendLine("| nodes | ack | pushes | push answered, median ms | p90 ms | max ms | not replicated |");
        s.AppendLine("|---|---|---|---|---|---|---|");
        foreach (var r in results)
            foreach (var (level, times, missed) in r.Levels)
                s.AppendLine($"| {r.Nodes} | {level.ToString().ToLowerInvariant()} | {times.Length} | {Stats.F(Stats.Median(times))} | " +
                             $"{Stats.F(Stats.Percentile(times, 90))} | {Stats.F(times.DefaultIfEmpty().Max())} | {missed} |");
        return s.ToString();
    }
}

public sealed record AckResult(int Nodes, int Samples, (AckLevel Level, double[] Times, int Missed)[] Levels,
    IReadOnlyList<(string Line, int Count)> Warnings);
