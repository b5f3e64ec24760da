using System.Diagnostics;
using System.Text;
using Mesh.EndToEnd.Tests;
using static Mesh.Bench.Progress;

namespace Mesh.Bench;

public sealed record CliTiming(string Command, double[] Milliseconds);

/// <summary>
/// The CLI figure: a cold <c>mesh</c> process per command (start, ask the node, print, exit), timed
/// wall clock against a running 3-node mesh holding the fleet manifests; <c>serf members</c>
/// against three serf agents in the same run, when serf is installed.
/// </summary>
public static class ColdCli
{
    public static async Task<IReadOnlyList<CliTiming>> RunAsync(string workDir, int runs, CancellationToken cancel)
    {
        var timings = new List<CliTiming>();
        Log("cli: starting a 3-node mesh");
        await using (var mesh = await BenchMesh.StartAsync(workDir, 3, null, cancel))
        {
            await Fleet.PushAndWaitAsync(mesh, cancel);
            var api = mesh.Nodes[0].Api;
            foreach (var command in new[] { "members", "status", "list" })
                timings.Add(new CliTiming($"mesh {command}", await TimeAsync(Binaries.Cli, ["--api", api, command], runs, cancel)));
        }
        if (SerfAgents.Installed)
        {
            using var serf = await SerfAgents.StartAsync(3, cancel);
            timings.Add(new CliTiming("serf members", await TimeAsync("serf", ["members", $"-rpc-addr=127.0.0.1:{serf.FirstRpc}"], runs, cancel)));
        }
        return timings;
    }

    private static async Task<double[]> TimeAsync(string program, string[] args, int runs, CancellationToken cancel)
    {
        var assembly = program.EndsWith(".dll", StringComparison.Ordinal);
        var times = new double[runs];
        for (var i = 0; i < runs; i++)
        {
            cancel.ThrowIfCancellationRequested();
            var info = new ProcessStartInfo(assembly ? "dotnet" : program) { RedirectStandardOutput = true, RedirectStandardError = true };
            if (assembly) info.ArgumentList.Add(program);
            foreach (var a in args) info.ArgumentList.Add(a);
            var clock = Stopwatch.StartNew();
            var result = await Binaries.RunToExitAsync(info, TimeSpan.FromSeconds(30));
            times[i] = clock.Elapsed.TotalMilliseconds;
            if (result.ExitCode != 0) throw new InvalidOperationException($"{program} {string.Join(' ', args)} exited {result.ExitCode}: {result.Err}");
        }
        Log($"cli: {Path.GetFileName(program)} {args.Last()}: median {Stats.Median(times):0.0} ms");
        return times;
    }

    public static string Table(IReadOnlyList<CliTiming> timings)
    {
        var s = new StringBuilder();
        s.AppendLine($"| command (cold process, {timings.FirstOrDefault()?.Milliseconds.Length ?? 0} runs) | median (ms) | p90 (ms) | fastest (ms) |");
        s.AppendLine("|---|---:|---:|---:|");
        foreach (var t in timings)
            s.AppendLine($"| `{t.Command}` | {Stats.F(Stats.Median(t.Milliseconds), 1)} | {Stats.F(Stats.Percentile(t.Milliseconds, 90), 1)} | {Stats.F(t.Milliseconds.Min(), 1)} |");
        return s.ToString();
    }
    /// <summary>
    /// The first pushes after a mesh forms: a fresh 3-node mesh, and as soon as every node sees
    /// the others up, <paramref name="pushes"/> revisions of one manifest, each with a cold
    /// <c>mesh push --wait</c> through the first node, timed wall clock (CLI start included).
    /// </summary>
    public static async Task<CliTiming> FirstPushesAsync(string workDir, int pushes, CancellationToken cancel)
    {
        Log("first-push: starting a fresh 3-node mesh");
        await using var mesh = await BenchMesh.StartAsync(workDir, 3, null, cancel);
        var times = new double[pushes];
        for (var i = 0; i < pushes; i++)
        {
            var file = Path.Combine(workDir, "first.yaml");
            await File.WriteAllTextAsync(file, $"manifest: first\nresources:\n  - {{ id: f, type: file, path: /first.txt, content: \"revision {i}\\n\" }}\n", cancel);
            var info = Binaries.StartInfo(Binaries.Cli, null, workDir, ["--api", mesh.Nodes[0].Api, "push", file, "--wait"]);
            var clock = Stopwatch.StartNew();
            var result = await Binaries.RunToExitAsync(info, TimeSpan.FromSeconds(120));
            times[i] = clock.Elapsed.TotalMilliseconds;
            if (result.ExitCode != 0) throw new InvalidOperationException($"push {i + 1} exited {result.ExitCode}: {result.Out}{result.Err}");
            Log($"first-push: push {i + 1}: {times[i]:0} ms");
        }
        return new CliTiming("mesh push --wait, pushes 1..n after the mesh formed", times);
    }

    public static string FirstPushTable(CliTiming timing)
    {
        var s = new StringBuilder();
        s.AppendLine("| push after the mesh formed | " + string.Join(" | ", timing.Milliseconds.Select((_, i) => $"#{i + 1}")) + " |");
        s.AppendLine("|---|" + string.Concat(timing.Milliseconds.Select(_ => "---:|")));
        s.AppendLine("| `mesh push --wait` wall time (ms) | " + string.Join(" | ", timing.Milliseconds.Select(m => Stats.F(m)))+ " |");
        return s.ToString();
    }
}
