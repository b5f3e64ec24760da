using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Text;
using Mesh.EndToEnd.Tests;
using Mesh.Protocol.Api;
using Mesh.Protocol.Wire;

namespace Mesh.Bench;

/// <summary>
/// A rollout's own cost: on a mesh of N nodes, a manifest rolled out in cumulative batches
/// behind a health check that passes at once (a command, <c>true</c>). Measured from the nodes'
/// audit trails (one clock: every node runs on this machine): per boundary, the time from a
/// batch's last <c>healthy</c> step to the next batch's first <c>applying</c> step (the
/// overhead: hearing the step, deriving the plan, pulling the body), and the whole rollout,
/// push accepted to the last node healthy.
/// </summary>
public static class Rollout
{
    public static async Task<RolloutResult> RunAsync(string workDir, int nodes, string batches, int runs, CancellationToken cancel)
    {
        await using var mesh = await BenchMesh.StartAsync(workDir, nodes, hocon: null, cancel);
        var via = mesh.Nodes[0];
        using var http = new HttpClient { BaseAddress = new Uri($"http://{via.Api}/"), Timeout = TimeSpan.FromSeconds(30) };
        var gaps = new List<double>();
        var totals = new List<double>();
        for (var run = 0; run <= runs; run++)
        {
            var yaml = $"manifest: rollout-bench\nresources:\n  - {{ id: f, type: file, path: /rollout-bench, content: \"run {run}\\n\" }}\n" +
                       $"rollout:\n  batches: [{batches}]\n  steps:\n    health: {{ command: \"true\" }}\n";
            var clock = Stopwatch.StartNew();
            var since = DateTimeOffset.UtcNow;
            var pushed = await mesh.PushAsync(via, "rollout-bench.yaml", yaml, $"run {run}", cancel);
            var version = pushed.Revisions[0].Revision.Version.ToString();
            RolloutStatus? status = null;
            await BenchMesh.Until(async () => (status = await http.GetFromJsonAsync<RolloutStatus>("v1/rollouts/rollout-bench", ApiJson.Options, cancel)) is { Over: true },
                "the rollout is over", TimeSpan.FromMinutes(10), cancel);
            if (status!.Phase != "completed") throw new InvalidOperationException($"the rollout {status.Phase}");
            var steps = await StepsAsync(mesh.Nodes, since, version, cancel);
            // The first run warms the nodes (JIT, connections); it is not counted.
            if (run == 0) continue;
            var byBatch = status.Batches.Select(b => b.Nodes.Select(n => n.Node).ToHashSet()).ToArray();
            for (var k = 0; k + 1 < byBatch.Length; k++)
            {
                var healthy = steps.Where(s => byBatch[k].Contains(s.Node) && s.Detail == "healthy").Max(s => s.Time);
                var applying = steps.Where(s => byBatch[k + 1].Contains(s.Node) && s.Detail == "applying").Min(s => s.Time);
                gaps.Add((applying - healthy).TotalMilliseconds);
            }
            totals.Add((steps.Where(s => s.Detail == "healthy").Max(s => s.Time) - since).TotalMilliseconds);
        }
        return new RolloutResult(nodes, batches, runs, mesh.FormTime, gaps.ToArray(), totals.ToArray(), mesh.Warnings());
    }

    private static async Task<AuditEntry[]> StepsAsync(IEnumerable<NodeProcess> nodes, DateTimeOffset since, string version, CancellationToken cancel)
    {
        var all = new List<AuditEntry>();
        foreach (var node in nodes)
        {
            using var http = new HttpClient { BaseAddress = new Uri($"http://{node.Api}/"), Timeout = TimeSpan.FromSeconds(10) };
            var query = $"v1/audit?node={node.Name}&since={Uri.EscapeDataString(since.ToString("O", CultureInfo.InvariantCulture))}&limit=5000";
            all.AddRange((await http.GetFromJsonAsync<AuditEntry[]>(query, ApiJson.Options, cancel) ?? [])
                .Where(e => e.Kind == "rollout" && e.Manifest == "rollout-bench" && e.Version == version));
        }
        return all.ToArray();
    }

    public static string Table(IEnumerable<RolloutResult> results)
    {
        var s = new StringBuilder();
        s.AppendLine("| nodes | batches | rollouts | boundaries | healthy → next batch applying, median ms | p90 ms | max ms | push → last node healthy, median s |");
        s.AppendLine("|---|---|---|---|---|---|---|---|");
        foreach (var r in results)
            s.AppendLine($"| {r.Nodes} | {r.Batches} | {r.Runs} | {r.Gaps.Length} | {Stats.F(Stats.Median(r.Gaps))} | {Stats.F(Stats.Percentile(r.Gaps, 90))} | " +
                         $"{Stats.F(r.Gaps.DefaultIfEmpty().Max())} | {Stats.F(Stats.Median(r.Totals) / 1000, 1)} |");
        return s.ToString();
    }
}

public sealed record RolloutResult(int Nodes, string Batches, int Runs, TimeSpan FormTime, double[] Gaps, double[] Totals,
    IReadOnlyList<(string Line, int Count)> Warnings);
