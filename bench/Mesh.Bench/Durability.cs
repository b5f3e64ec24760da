using System.Diagnostics;
using System.Globalization;
using System.Text;
using Mesh.EndToEnd.Tests;
using System.Net.Http.Json;
using Mesh.Protocol.Api;
using Mesh.Protocol.Wire;
using static Mesh.Bench.Progress;

namespace Mesh.Bench;

/// <summary>One restart of a node that missed revisions, from process start to applied heads.</summary>
public sealed record CatchupSample(string Variant, int Run, double UpMs, double FirstReportMs, double CaughtUpMs, double CaughtUpPolledMs, string? Problem = null)
{
    public double FromUpMs => CaughtUpMs - UpMs;
}

/// <summary>One restart of a lone node whose managed file was deleted while it was down.</summary>
public sealed record RestartSample(int Run, string Victim, double UpMs, double FileBackMs, double AllReportedMs, string? Problem = null);

/// <summary>Sizes of one node's data directory, per top-level entry, after a series of pushes.</summary>
public sealed record DataDirSample(string Variant, string Node, bool Origin, IReadOnlyList<(string Entry, long Bytes, long ApparentBytes, int Files)> Entries)
{
    /// <summary>What the node keeps (everything but the sandbox root the manifests apply to).</summary>
    public long Total => Entries.Where(e => e.Entry != "root").Sum(e => e.Bytes);
}

public sealed class DurabilityResult
{
    public List<CatchupSample> Catchup { get; } = [];
    public List<RestartSample> Restart { get; } = [];
    public int RestartManifests { get; set; }
    public int RestartFiles { get; set; }
    public List<DataDirSample> DataDir { get; } = [];
    public List<DataDirSample> DataDirBaseline { get; } = [];
    public List<string> Notes { get; } = [];
    public List<(string What, IReadOnlyList<(string Line, int Count)> Lines)> Warnings { get; } = [];
}

/// <summary>
/// Durability figures, with real mesh-node processes on loopback (as the other figures):
/// catch-up of a node that missed revisions, restart → enforcing of a lone node, and the
/// size of a node's data directory after 1 000 revisions.
/// </summary>
public static class Durability
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(120);

    // ---- catch-up ------------------------------------------------------------------------------

    /// <summary>
    /// A 3-node mesh; per run, node n02 leaves (SIGTERM), <paramref name="revisions"/> revisions
    /// are pushed through n00 (to one manifest, or spread over ten), and n02 is started again
    /// with its data directory. Measured from just before its process starts: member up, first
    /// report, and the report of the last head (its own clock stamps reports).
    /// </summary>
    public static async Task CatchupAsync(DurabilityResult result, string workDir, int revisions, int runs, CancellationToken cancel)
    {
        foreach (var manifests in new[] { 1, 10 })
        {
            var variant = manifests == 1 ? $"1 manifest × {revisions} revisions" : $"{manifests} manifests × {revisions / manifests} revisions";
            Log($"catchup ({variant}): starting a 3-node mesh");
            await using var mesh = await BenchMesh.StartAsync(Path.Combine(workDir, $"catchup-{manifests}"), 3, null, cancel);
            var names = Enumerable.Range(0, manifests).Select(i => $"series-{i:00}").ToArray();
            var heads = new Dictionary<string, string>(StringComparer.Ordinal);
            var counter = 0;
            async Task PushAsync(NodeProcess via, string name)
            {
                var push = await mesh.PushAsync(via, name + ".yaml", Series(name, ++counter), $"revision {counter}", cancel);
                heads[name] = push.Revisions.Single().Revision.Version.ToString();
            }
            foreach (var name in names) await PushAsync(mesh.Nodes[0], name);
            await AppliedAsync(mesh.Nodes, heads, cancel);

            for (var run = 1; run <= runs; run++)
            {
                var lagger = mesh.Nodes.Single(n => n.Name == "n02");
                var seed = mesh.Nodes.Single(n => n.Name == "n00");
                await lagger.StopAsync();
                await BenchMesh.RemovedAsync(seed, lagger.Name, Timeout, cancel);
                result.Warnings.Add(($"catchup, {variant}, run {run} (before the restart)", BenchMesh.CollectWarnings([lagger])));
                await mesh.RemoveAsync(lagger);

                for (var i = 0; i < revisions; i++) await PushAsync(seed, names[i % names.Length]);
                // The two live nodes apply every head first, so that the restart meets a quiet mesh.
                await AppliedAsync(mesh.Nodes, heads, cancel);

                var started = DateTimeOffset.UtcNow;
                var clock = Stopwatch.StartNew();
                var node = await mesh.StartNodeAsync("n02", seed.ClusterAddress);
                var upMs = clock.Elapsed.TotalMilliseconds;
                double polledMs;
                try
                {
                    await BenchMesh.Until(async () => HeadsApplied((await node.StatusAsync()).Manifests, node.Name, heads), "n02 applied every head", Timeout, cancel);
                    polledMs = clock.Elapsed.TotalMilliseconds;
                }
                catch (TimeoutException e)
                {
                    result.Catchup.Add(new CatchupSample(variant, run, upMs, double.NaN, double.NaN, double.NaN, e.Message));
                    continue;
                }
                var own = (await node.StatusAsync()).Manifests.Where(s => s.Node == node.Name && s.Report is not null).Select(s => s.Report!).ToArray();
                // The first report after the start: usually a head the node already knew, re-applied from its own store.
                var first = (await ReportsSinceAsync(node, started)).DefaultIfEmpty(double.NaN).Min();
                var last = own.Max(r => (r.Time - started).TotalMilliseconds);
                var sample = new CatchupSample(variant, run, upMs, first, last, polledMs);
                result.Catchup.Add(sample);
                Log($"catchup ({variant}) run {run}: up {upMs:0} ms, every head applied {last:0} ms after process start ({sample.FromUpMs:0} ms after up)");
            }
            result.Warnings.Add(($"catchup, {variant}", mesh.Warnings()));
        }
    }

    /// <summary>A manifest of a directory and a file of about 1 KB whose content changes with every revision.</summary>
    private static string Series(string name, int revision) => $"""
        manifest: {name}
        resources:
          - {"{"} id: dir, type: directory, path: /{name} {"}"}
          - id: conf
            type: file
            path: /{name}/settings.conf
            mode: "0644"
            requires: [dir]
            content: |
              # revision {revision} of {name}
        {string.Concat(Enumerable.Range(0, 16).Select(i => $"      key{i:00} = value {revision}-{i} abcdefghijklmnopqrstuvwxyz0123456789\n"))}
        """;

    private static bool HeadsApplied(IEnumerable<NodeStatus> status, string node, IReadOnlyDictionary<string, string> heads)
    {
        var own = status.Where(s => s.Node == node && s.Report is not null).ToDictionary(s => s.Manifest, s => s.Report!, StringComparer.Ordinal);
        return heads.All(h => own.TryGetValue(h.Key, out var r) && r.Succeeded && r.Version.ToString() == h.Value);
    }

    private static async Task AppliedAsync(IReadOnlyList<NodeProcess> nodes, IReadOnlyDictionary<string, string> heads, CancellationToken cancel)
    {
        try
        {
            await BenchMesh.Until(async () =>
            {
                foreach (var n in nodes.ToArray())
                    if (!HeadsApplied((await n.StatusAsync()).Manifests, n.Name, heads)) return false;
                return true;
            }, "every node applied every head", Timeout, cancel);
        }
        catch (TimeoutException e)
        {
            // Say what each node lacks: the bench stops here.
            var s = new StringBuilder(e.Message);
            foreach (var n in nodes.ToArray())
                foreach (var row in (await n.StatusAsync()).Manifests.Where(r => r.Node == n.Name && (r.Report is null || !r.Report.Succeeded || r.Report.Version.ToString() != heads.GetValueOrDefault(r.Manifest))).Take(5))
                    s.Append($"\n{n.Name}: {row.Manifest} {row.State} at {row.Report?.Version} (head {heads.GetValueOrDefault(row.Manifest)}) {row.Report?.Error}");
            throw new TimeoutException(s.ToString(), e);
        }
    }


    /// <summary>When (ms after <paramref name="since"/>) each apply the node reported since then finished, from its audit trail.</summary>
    private static async Task<double[]> ReportsSinceAsync(NodeProcess node, DateTimeOffset since)
    {
        using var http = new HttpClient { BaseAddress = new Uri($"http://{node.Api}/"), Timeout = TimeSpan.FromSeconds(10) };
        var query = $"v1/audit?node={node.Name}&since={Uri.EscapeDataString(since.ToString("O", CultureInfo.InvariantCulture))}&limit=5000";
        var entries = await http.GetFromJsonAsync<AuditEntry[]>(query, ApiJson.Options) ?? [];
        return entries.Where(e => e.Kind is "applied" or "failed" or "drift").Select(e => (e.Time - since).TotalMilliseconds).ToArray();
    }

    // ---- restart → enforcing -------------------------------------------------------------------

    /// <summary>
    /// One node alone (it seeds itself: no peer to ask) enforcing <paramref name="manifests"/>
    /// manifests of <paramref name="files"/> files each. Per run: SIGTERM, one managed file
    /// deleted, the node started again with its data directory; measured from just before its
    /// process starts until the file is back (polled every 10 ms) and until every manifest has
    /// been re-applied (its reports).
    /// </summary>
    public static async Task RestartAsync(DurabilityResult result, string workDir, int manifests, int files, int runs, CancellationToken cancel)
    {
        result.RestartManifests = manifests;
        result.RestartFiles = files;
        Log($"restart: one node enforcing {manifests} manifests of {files} files");
        await using var mesh = await BenchMesh.StartAsync(Path.Combine(workDir, "restart"), 1, null, cancel);
        var heads = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var m = 0; m < manifests; m++)
        {
            var name = $"app-{m:00}";
            var push = await mesh.PushAsync(mesh.Nodes[0], name + ".yaml", Enforced(name, files), "restart bench", cancel);
            heads[name] = push.Revisions.Single().Revision.Version.ToString();
        }
        await AppliedAsync(mesh.Nodes, heads, cancel);

        for (var run = 1; run <= runs; run++)
        {
            var node = mesh.Nodes[0];
            await node.StopAsync();
            result.Warnings.Add(($"restart, run {run} (before the restart)", BenchMesh.CollectWarnings([node])));
            await mesh.RemoveAsync(node);
            // The victim moves through the manifests: first, middle, last applied.
            var manifest = (run - 1) * (manifests - 1) / Math.Max(1, runs - 1);
            var victim = $"/app-{manifest:00}/file-{run % files:000}.conf";
            var path = Path.Combine(node.Root, victim.TrimStart('/'));
            File.Delete(path);

            var started = DateTimeOffset.UtcNow;
            var clock = Stopwatch.StartNew();
            using var stopPolling = CancellationTokenSource.CreateLinkedTokenSource(cancel);
            var back = Task.Run(async () =>
            {
                while (!File.Exists(path)) await Task.Delay(10, stopPolling.Token);
                return clock.Elapsed.TotalMilliseconds;
            }, stopPolling.Token);
            var restarted = await mesh.StartNodeAsync(node.Name, seed: null);
            var upMs = clock.Elapsed.TotalMilliseconds;
            stopPolling.CancelAfter(Timeout);
            double backMs;
            try
            {
                backMs = await back;
            }
            catch (OperationCanceledException) when (!cancel.IsCancellationRequested)
            {
                result.Restart.Add(new RestartSample(run, victim, upMs, double.NaN, double.NaN, $"{victim} not back within {Timeout.TotalSeconds:0} s"));
                continue;
            }
            double allMs = double.NaN;
            try
            {
                await BenchMesh.Until(async () => (await ReportsSinceAsync(restarted, started)).Length >= manifests, "every manifest re-applied", Timeout, cancel);
                var reports = await ReportsSinceAsync(restarted, started);
                allMs = reports.Order().ElementAt(manifests - 1);
            }
            catch (TimeoutException e)
            {
                result.Notes.Add($"restart run {run}: {e.Message}");
            }
            result.Restart.Add(new RestartSample(run, victim, upMs, backMs, allMs));
            Log($"restart run {run}: up {upMs:0} ms, {victim} back {backMs:0} ms, all {manifests} manifests re-applied {allMs:0} ms after process start");
        }
        result.Warnings.Add(("restart", mesh.Warnings()));
    }

    /// <summary>A manifest that manages a directory and <paramref name="files"/> small files in it.</summary>
    private static string Enforced(string name, int files)
    {
        var s = new StringBuilder($"manifest: {name}\nresources:\n  - {{ id: dir, type: directory, path: /{name} }}\n");
        for (var f = 0; f < files; f++)
            s.Append(CultureInfo.InvariantCulture, $"  - {{ id: f{f:000}, type: file, path: /{name}/file-{f:000}.conf, mode: \"0644\", requires: [dir], content: \"{name} file {f}\\n\" }}\n");
        return s.ToString();
    }

    // ---- data directory size -----------------------------------------------------------------

    /// <summary>
    /// A 3-node mesh takes <paramref name="revisions"/> revisions through n00 (as fast as the
    /// node answers; <paramref name="manifests"/> manifests in turn); once every node applied
    /// every head, the nodes are stopped gracefully and each data directory is measured with du.
    /// </summary>
    public static async Task DataDirAsync(DurabilityResult result, string workDir, int manifests, int revisions, CancellationToken cancel)
    {
        var variant = $"{manifests} manifest{(manifests == 1 ? "" : "s")} × {revisions / manifests} revisions";
        Log($"datadir ({variant}): starting a 3-node mesh");
        var dir = Path.Combine(workDir, $"datadir-{manifests}");
        // Blob collection on a short interval and grace (1 h each by default), so that the
        // figure after collection is reached within the run.
        await using var mesh = await BenchMesh.StartAsync(dir, 3, $"mesh.content.gc-interval = {CollectionInterval.TotalSeconds}s\nmesh.content.gc-grace = {CollectionGrace.TotalSeconds}s\n", cancel);
        var nodes = mesh.Nodes.OrderBy(n => n.Name, StringComparer.Ordinal).ToArray();
        if (result.DataDirBaseline.Count == 0)
            foreach (var n in nodes) result.DataDirBaseline.Add(Measure("empty mesh", n, origin: n.Name == "n00"));
        var names = Enumerable.Range(0, manifests).Select(i => $"series-{i:00}").ToArray();
        var heads = new Dictionary<string, string>(StringComparer.Ordinal);
        var clock = Stopwatch.StartNew();
        for (var i = 0; i < revisions; i++)
        {
            var name = names[i % names.Length];
            var push = await mesh.PushAsync(nodes[0], name + ".yaml", Series(name, i + 1), $"revision {i + 1}", cancel);
            heads[name] = push.Revisions.Single().Revision.Version.ToString();
            if ((i + 1) % 200 == 0) Log($"datadir ({variant}): {i + 1} revisions pushed in {clock.Elapsed.TotalSeconds:0} s");
        }
        await AppliedAsync(nodes, heads, cancel);
        result.Notes.Add($"datadir ({variant}): {revisions} pushes through n00 took {clock.Elapsed.TotalSeconds:0.0} s until every node had applied every head");
        foreach (var n in nodes) result.DataDir.Add(Measure($"{variant}, before collection", n, origin: n.Name == "n00"));

        // Every body older than the grace and outside the retained history goes at the next collection.
        var bound = manifests * RetainedRevisions;
        var collected = Stopwatch.StartNew();
        await BenchMesh.Until(() => Task.FromResult(nodes.All(n => BlobCount(n) <= 2 * bound)),
            $"every node collects down to about {bound} bodies", CollectionGrace + 4 * CollectionInterval + TimeSpan.FromSeconds(60), cancel);
        result.Notes.Add($"datadir ({variant}): collection brought every node to at most {2 * bound} blobs {collected.Elapsed.TotalSeconds:0} s after the last apply " +
            $"(blobs: {string.Join(", ", nodes.Select(n => $"{n.Name} {BlobCount(n)}"))})");
        // A graceful stop, so that what the node keeps is on disk and nothing is half written.
        foreach (var n in nodes) await n.StopAsync();
        foreach (var n in nodes) result.DataDir.Add(Measure($"{variant}, after collection", n, origin: n.Name == "n00"));
        result.Warnings.Add(($"datadir, {variant}", mesh.Warnings()));
    }

    private static readonly TimeSpan CollectionInterval = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan CollectionGrace = TimeSpan.FromSeconds(10);

    /// <summary>mesh.history.keep, as the embedded cluster.hocon sets it.</summary>
    private const int RetainedRevisions = 50;

    private static int BlobCount(NodeProcess node) =>
        Directory.Exists(Path.Combine(node.DataDir, "blobs")) ? Directory.EnumerateFiles(Path.Combine(node.DataDir, "blobs")).Count() : 0;

    private static DataDirSample Measure(string variant, NodeProcess node, bool origin)
    {
        var entries = new List<(string, long, long, int)>();
        foreach (var entry in new DirectoryInfo(node.DataDir).EnumerateFileSystemInfos().OrderBy(e => e.Name, StringComparer.Ordinal))
        {
            var files = entry is DirectoryInfo d ? d.EnumerateFiles("*", SearchOption.AllDirectories).Count() : 1;
            entries.Add((entry.Name, Du(entry.FullName, apparent: false), Du(entry.FullName, apparent: true), files));
        }
        return new DataDirSample(variant, node.Name, origin, entries);
    }

    /// <summary><c>du -s</c> in bytes: the disk blocks used, or the apparent size (the bytes in the files).</summary>
    private static long Du(string path, bool apparent)
    {
        var info = new ProcessStartInfo("du") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in (string[])["-s", "--block-size=1", .. apparent ? (string[])["--apparent-size"] : [], path]) info.ArgumentList.Add(a);
        using var p = Process.Start(info)!;
        try
        {
            var text = p.StandardOutput.ReadToEnd();
            if (!p.WaitForExit(30_000)) throw new TimeoutException($"du {path} did not finish");
            return long.Parse(text.Split('\t')[0], CultureInfo.InvariantCulture);
        }
        finally
        {
            if (!p.HasExited) p.Kill(entireProcessTree: true);
        }
    }

    // ---- tables --------------------------------------------------------------------------------

    public static string Table(DurabilityResult r)
    {
        var s = new StringBuilder();
        if (r.Catchup.Count > 0)
        {
            s.AppendLine("### Catch-up of a node that missed revisions (3-node mesh)");
            s.AppendLine();
            s.AppendLine("| variant | run | process start → up (ms) | → first report (ms) | → every head applied (ms) | up → every head applied (ms) | problem |");
            s.AppendLine("|---|---:|---:|---:|---:|---:|---|");
            foreach (var c in r.Catchup)
                s.AppendLine($"| {c.Variant} | {c.Run} | {Stats.F(c.UpMs)} | {Stats.F(c.FirstReportMs)} | {Stats.F(c.CaughtUpMs)} | {Stats.F(c.FromUpMs)} | {c.Problem ?? ""} |");
            s.AppendLine();
            s.AppendLine("| variant | runs | start → up, median (ms) | start → every head applied, median (min–max) (ms) | up → every head applied, median (ms) |");
            s.AppendLine("|---|---:|---:|---:|---:|");
            foreach (var g in r.Catchup.Where(c => c.Problem is null).GroupBy(c => c.Variant))
                s.AppendLine($"| {g.Key} | {g.Count()} | {Stats.F(Stats.Median(g.Select(c => c.UpMs)))} | {Stats.F(Stats.Median(g.Select(c => c.CaughtUpMs)))} ({Stats.F(g.Min(c => c.CaughtUpMs))}–{Stats.F(g.Max(c => c.CaughtUpMs))}) | {Stats.F(Stats.Median(g.Select(c => c.FromUpMs)))} |");
            s.AppendLine();
        }
        if (r.Restart.Count > 0)
        {
            s.AppendLine($"### Restart → enforcing (one node alone, {r.RestartManifests} manifests × {r.RestartFiles} files)");
            s.AppendLine();
            s.AppendLine("| run | deleted file | process start → up (ms) | → file back (ms) | → every manifest re-applied (ms) | problem |");
            s.AppendLine("|---:|---|---:|---:|---:|---|");
            foreach (var x in r.Restart)
                s.AppendLine($"| {x.Run} | `{x.Victim}` | {Stats.F(x.UpMs)} | {Stats.F(x.FileBackMs)} | {Stats.F(x.AllReportedMs)} | {x.Problem ?? ""} |");
            var ok = r.Restart.Where(x => x.Problem is null).ToArray();
            if (ok.Length > 0)
            {
                s.AppendLine();
                s.AppendLine("| measure | median (ms) | min (ms) | max (ms) |");
                s.AppendLine("|---|---:|---:|---:|");
                void Row(string what, Func<RestartSample, double> f) =>
                    s.AppendLine($"| {what} | {Stats.F(Stats.Median(ok.Select(f)))} | {Stats.F(ok.Min(f))} | {Stats.F(ok.Max(f))} |");
                Row("process start → up", x => x.UpMs);
                Row("process start → deleted file back", x => x.FileBackMs);
                Row("process start → every manifest re-applied", x => x.AllReportedMs);
            }
            s.AppendLine();
        }
        if (r.DataDir.Count > 0)
        {
            var entries = r.DataDir.Concat(r.DataDirBaseline).SelectMany(d => d.Entries.Select(e => e.Entry)).Distinct().Order(StringComparer.Ordinal).ToArray();
            s.AppendLine("### Data directory size (du, disk blocks; KiB)");
            s.AppendLine();
            s.Append("| variant | node |");
            foreach (var e in entries) s.Append($" {e} |");
            s.AppendLine(" total without root |");
            s.Append("|---|---|");
            foreach (var _ in entries) s.Append("---:|");
            s.AppendLine("---:|");
            foreach (var d in r.DataDirBaseline.Concat(r.DataDir))
            {
                s.Append($"| {d.Variant} | {d.Node}{(d.Origin ? " (pushes arrive here)" : "")} |");
                foreach (var e in entries)
                {
                    var hit = d.Entries.FirstOrDefault(x => x.Entry == e);
                    s.Append(hit.Entry is null ? " – |" : $" {Kib(hit.Bytes)} ({hit.Files} file{(hit.Files == 1 ? "" : "s")}) |");
                }
                s.AppendLine($" **{Kib(d.Total)}** |");
            }
            s.AppendLine();
            s.AppendLine("Apparent sizes (the bytes in the files, `du --apparent-size`; KiB):");
            s.AppendLine();
            foreach (var d in r.DataDirBaseline.Concat(r.DataDir))
                s.AppendLine($"- {d.Variant}, {d.Node}: {string.Join(", ", d.Entries.Select(e => $"{e.Entry} {Kib(e.ApparentBytes)}"))}");
            s.AppendLine();
        }
        foreach (var n in r.Notes) s.AppendLine($"- {n}");
        if (r.Notes.Count > 0) s.AppendLine();
        return s.ToString();
    }

    private static string Kib(long bytes) => (bytes / 1024.0).ToString("0", CultureInfo.InvariantCulture);
}
