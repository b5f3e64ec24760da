using System.Diagnostics;
using System.Text;
using Mesh.EndToEnd.Tests;
using static Mesh.Bench.Progress;

namespace Mesh.Bench;

/// <summary>What one fleet size measured; <see cref="Stopped"/> says why a size could not be (or not wholly) measured.</summary>
public sealed class ScaleResult(int nodes, bool namespaces)
{
    public int Nodes { get; } = nodes;
    public bool Namespaces { get; } = namespaces;
    public string? Stopped { get; set; }
    public double FormSeconds { get; set; } = double.NaN;
    public double ConfiguredSeconds { get; set; } = double.NaN;
    public double JoinUpMs { get; set; } = double.NaN;
    public double JoinConfiguredMs { get; set; } = double.NaN;
    public PropagationResult? Push { get; set; }
    public List<IdleSample> Idle { get; } = [];
    public double IdleWindowSeconds { get; set; }
    public CpuUse? IdleMachine { get; set; }
    /// <summary>Per node, bytes per second in and out of its host over the idle window (namespaces only).</summary>
    public List<double> NetBytesPerSecond { get; } = [];
    /// <summary>Per node, the size of its durable replicated state on disk (data-dir/ddata), KiB.</summary>
    public List<double> DdataKiB { get; } = [];
    public List<double> StatusMs { get; } = [];
    public long StatusBytes { get; set; }
    public long StatusTableBytes { get; set; }
    public long StatusJsonBytes { get; set; }
    /// <summary>"Marking node as UNREACHABLE" lines over every node's log, and split-brain decisions.</summary>
    public int UnreachableMarks { get; set; }
    public int DownDecisions { get; set; }
    /// <summary>The 10 MiB body pushed to every node at once: until every node applied it, ms.</summary>
    public double HerdMs { get; set; } = double.NaN;
    /// <summary>Of the content bytes the nodes served meanwhile, the share the pushing node served.</summary>
    public double HerdOriginShare { get; set; } = double.NaN;
    public double HerdServedMiB { get; set; } = double.NaN;
    /// <summary><c>mesh status</c> against the pushing node while the body spread: each answer's wall time, ms.</summary>
    public List<double> HerdStatusMs { get; } = [];
    public double MemAvailableMiBAtStart { get; set; }
    public double MemAvailableMiBLoaded { get; set; }
    public IReadOnlyList<(string Line, int Count)> Warnings { get; set; } = [];
}

/// <summary>
/// The fleet figure (issue "hundreds of hosts"): for each size N, N real nodes, each in a network
/// namespace of its own with its own address (on loopback when namespaces cannot be made),
/// holding the fleet manifests. Per size: the time to form and to configure, idle CPU, RSS and
/// network bytes per node, the replicated state on disk, <c>mesh status</c> (cold CLI) latency
/// and output size, push → applied on every node, and one more node joining and configuring
/// itself. A size the machine cannot hold is not started, or is stopped where it broke, with
/// what ran out; the larger sizes after it are not tried.
/// </summary>
public static class Scale
{
    public sealed record Options(int[] Sizes, int Revisions, int SettleSeconds, int IdleSeconds, int StatusRuns, bool Loopback);

    public static async Task<IReadOnlyList<ScaleResult>> RunAsync(string workDir, Options options, CancellationToken cancel)
    {
        var namespaces = !options.Loopback && TestNetwork.Unavailable is null;
        if (!namespaces) Log($"scale: on loopback ({(options.Loopback ? "--loopback" : TestNetwork.Unavailable)})");
        var results = new List<ScaleResult>();
        foreach (var n in options.Sizes.Order())
        {
            var result = new ScaleResult(n, namespaces) { MemAvailableMiBAtStart = MemAvailableMiB() };
            results.Add(result);
            // Memory first: a size whose nodes cannot fit is not started (the machine would swap or kill).
            if (results.Count > 1 && results[^2].Idle.Count > 0)
            {
                var perNode = results[^2].Idle.Max(s => s.RssMiB) * 1.15;
                if (perNode * n > result.MemAvailableMiBAtStart)
                {
                    result.Stopped = $"memory: {n} nodes × ~{perNode:0} MiB (the largest node at {results[^2].Nodes}, +15 %) > {result.MemAvailableMiBAtStart:0} MiB available";
                    Log($"scale: {n}: not started: {result.Stopped}");
                    break;
                }
            }
            try
            {
                await MeasureAsync(Path.Combine(workDir, $"scale-{n}"), result, options, cancel);
            }
            catch (Exception e) when (e is TimeoutException or InvalidOperationException or HttpRequestException && !cancel.IsCancellationRequested)
            {
                // A node that exited puts its whole log in the message: its last line says why.
                var lines = e.Message.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
                var last = lines.Length > 1 ? $"; its log ends: {lines[^1]}" : "";
                result.Stopped ??= $"{lines.FirstOrDefault()}{last} (machine then: {Machine()})";
                Log($"scale: {n}: stopped: {result.Stopped}");
            }
            if (result.Stopped is not null) break;
        }
        return results;
    }

    private static async Task MeasureAsync(string dir, ScaleResult result, Options options, CancellationToken cancel)
    {
        var n = result.Nodes;
        Log($"scale: {n}: starting {n} nodes{(result.Namespaces ? " in network namespaces" : " on loopback")} ({Machine()})");
        // Forming: each joiner costs the machine ~1 s of CPU at start; give large sizes their time.
        var formTimeout = TimeSpan.FromSeconds(Math.Max(90, n * 3));
        await using var mesh = await BenchMesh.StartAsync(dir, n, hocon: null, cancel, hosts: result.Namespaces ? n + 1 : null, formTimeout: formTimeout);
        result.FormSeconds = mesh.FormTime.TotalSeconds;
        Log($"scale: {n}: formed in {result.FormSeconds:0.0} s; pushing the fleet manifests");
        var nodes = mesh.Nodes.ToArray();
        try
        {
            var clock = Stopwatch.StartNew();
            foreach (var (name, yaml) in Fleet.Manifests) await mesh.PushAsync(nodes[0], name + ".yaml", yaml, "bench fleet", cancel);
            await AllOkAsync(nodes[0], n * Fleet.Manifests.Length, TimeSpan.FromSeconds(60 + n), cancel);
            result.ConfiguredSeconds = clock.Elapsed.TotalSeconds;
            Log($"scale: {n}: every node configured in {result.ConfiguredSeconds:0.0} s; settling {options.SettleSeconds} s, idle {options.IdleSeconds} s");

            // Deliberate pauses: the settle time lets start-up work end; the window is the measurement.
            await Task.Delay(TimeSpan.FromSeconds(options.SettleSeconds), cancel);
            var links = result.Namespaces ? nodes.Select(node => mesh.Network![node.Name].Link).ToArray() : [];
            var bytesBefore = links.Select(LinkBytes).ToArray();
            var before = CpuSnapshot.Take(nodes);
            await Task.Delay(TimeSpan.FromSeconds(options.IdleSeconds), cancel);
            var use = CpuSnapshot.Take(nodes).Since(before);
            var bytesAfter = links.Select(LinkBytes).ToArray();
            result.IdleWindowSeconds = use.WallSeconds;
            result.IdleMachine = use;
            result.MemAvailableMiBLoaded = MemAvailableMiB();
            for (var i = 0; i < nodes.Length; i++)
            {
                result.Idle.Add(new IdleSample(nodes[i].Name, ProcFs.StatusField(nodes[i].Pid, "VmRSS") / 1024.0,
                    100 * use.NodeSeconds[i] / use.WallSeconds, ProcFs.StatusField(nodes[i].Pid, "Threads")));
                result.DdataKiB.Add(DirectoryKiB(Path.Combine(nodes[i].DataDir, "ddata")));
            }
            for (var i = 0; i < links.Length; i++) result.NetBytesPerSecond.Add((bytesAfter[i] - bytesBefore[i]) / use.WallSeconds);
            Log($"scale: {n}: idle CPU median {Stats.Median(result.Idle.Select(s => s.CpuPercent)):0.00} %, RSS median {Stats.Median(result.Idle.Select(s => s.RssMiB)):0} MiB");

            // mesh status as an operator runs it: a cold CLI, from outside the node's host.
            var via = nodes[0];
            var cli = new List<string> { "--api", via.Api };
            if (File.Exists(via.TokenFile)) cli.InsertRange(0, ["--token-file", via.TokenFile]);
            for (var i = 0; i < options.StatusRuns; i++)
            {
                var clock2 = Stopwatch.StartNew();
                var status = await MeshCli.RunInAsync(null, dir, [.. cli, "status"]);
                result.StatusMs.Add(clock2.Elapsed.TotalMilliseconds);
                result.StatusBytes = Encoding.UTF8.GetByteCount(status.Out);
            }
            result.StatusTableBytes = Encoding.UTF8.GetByteCount((await MeshCli.RunInAsync(null, dir, [.. cli, "status", "--table"])).Out);
            result.StatusJsonBytes = Encoding.UTF8.GetByteCount((await MeshCli.RunInAsync(null, dir, [.. cli, "status", "--json"])).Out);

            Log($"scale: {n}: push → applied on all, {options.Revisions} revisions");
            result.Push = await Propagation.RunOnAsync(mesh, new Scenario(n, Announce: true), options.Revisions, warmup: 2, cancel);
            result.Push.FormTime = mesh.FormTime;

            Log($"scale: {n}: one more node joins");
            await JoinAsync(mesh, result, cancel);

            Log($"scale: {n}: a 10 MiB body to every node at once");
            await HerdAsync(mesh, result, dir, cli, cancel);
        }
        finally
        {
            var logs = mesh.Nodes.Select(node => node.Log).ToArray();
            result.UnreachableMarks = logs.Sum(log => Count(log, "as UNREACHABLE"));
            result.DownDecisions = logs.Sum(log => Count(log, "SBR took decision"));
            result.Warnings = mesh.Warnings();
        }
    }

    public const string HerdManifest = "bench-herd";

    /// <summary>
    /// No thundering herd: one new manifest with a 10 MiB file, pushed through node 0 to every node
    /// at once. Until every node applied it; the content bytes every node served meanwhile (its
    /// <c>mesh_content_served_bytes_total</c>), and the share node 0, the origin, served; a cold
    /// <c>mesh status</c> against node 0 over and over while it spreads.
    /// </summary>
    private static async Task HerdAsync(BenchMesh mesh, ScaleResult result, string dir, List<string> cli, CancellationToken cancel)
    {
        var nodes = mesh.Nodes.ToArray();
        var before = await Task.WhenAll(nodes.Select(ServedBytesAsync));
        var line = new string('x', 99);
        var yaml = new StringBuilder($"manifest: {HerdManifest}\nresources:\n  - id: blob\n    type: file\n    path: /bench-herd.txt\n    content: |\n");
        for (var i = 0; yaml.Length < 10 * 1024 * 1024; i++) yaml.Append("      ").Append(i.ToString("0000000")).Append(' ').Append(line).Append('\n');
        using var done = CancellationTokenSource.CreateLinkedTokenSource(cancel);
        var probe = ProbeStatusAsync(dir, [.. cli, "status", HerdManifest], result.HerdStatusMs, done.Token);
        var spread = Stopwatch.StartNew();
        try
        {
            await mesh.PushAsync(nodes[0], HerdManifest + ".yaml", yaml.ToString(), "bench herd", cancel);
            await BenchMesh.Until(async () =>
            {
                var rows = (await nodes[0].StatusAsync()).Manifests.Where(r => r.Manifest == HerdManifest).ToArray();
                return rows.Length == nodes.Length && rows.All(r => r.State == "ok");
            }, $"every node applied {HerdManifest}", TimeSpan.FromSeconds(120), cancel);
            result.HerdMs = spread.Elapsed.TotalMilliseconds;
        }
        finally
        {
            await done.CancelAsync();
            await probe;
        }
        var after = await Task.WhenAll(nodes.Select(ServedBytesAsync));
        var served = after.Zip(before, (a, b) => a - b).ToArray();
        result.HerdServedMiB = served.Sum() / (1024.0 * 1024);
        result.HerdOriginShare = served.Sum() > 0 ? served[0] / served.Sum() : double.NaN;
    }

    /// <summary>A cold <c>mesh</c> command (<paramref name="args"/>) over and over, 200 ms apart, until <paramref name="stop"/>: each run's wall time into <paramref name="times"/>.</summary>
    public static Task ProbeStatusAsync(string dir, string[] args, List<double> times, CancellationToken stop) => Task.Run(async () =>
    {
        while (!stop.IsCancellationRequested)
        {
            var clock = Stopwatch.StartNew();
            await MeshCli.RunInAsync(null, dir, args);
            times.Add(clock.Elapsed.TotalMilliseconds);
            try
            {
                await Task.Delay(200, stop);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    });

    /// <summary>The node's <c>mesh_content_served_bytes_total</c>.</summary>
    public static async Task<double> ServedBytesAsync(NodeProcess node)
    {
        using var response = await node.MetricsAsync();
        foreach (var line in (await response.Content.ReadAsStringAsync()).Split('\n'))
            if (line.StartsWith("mesh_content_served_bytes_total ", StringComparison.Ordinal))
                return double.Parse(line.Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture);
        throw new InvalidOperationException($"{node.Name}'s /metrics has no mesh_content_served_bytes_total");
    }

    /// <summary>Until <paramref name="via"/> shows <paramref name="rows"/> status rows, none of them failed or pending.</summary>
    private static async Task AllOkAsync(NodeProcess via, int rows, TimeSpan timeout, CancellationToken cancel)
    {
        string last = "";
        try
        {
            await BenchMesh.Until(async () =>
            {
                var status = (await via.StatusAsync()).Manifests;
                last = FleetSummary(status);
                return status.Length == rows && status.All(s => s.State == "ok");
            }, $"{via.Name} shows {rows} rows ok", timeout, cancel);
        }
        catch (TimeoutException e)
        {
            throw new TimeoutException($"{e.Message}; last seen: {last}", e);
        }
    }

    private static string FleetSummary(Mesh.Protocol.Api.NodeStatus[] status) =>
        $"{status.Length} rows: " + string.Join(", ", status.GroupBy(s => s.State).Select(g => $"{g.Count()} {g.Key}"));

    /// <summary>One more node, seeded by node 0: process start → Up, and → every fleet manifest applied (its own report).</summary>
    private static async Task JoinAsync(BenchMesh mesh, ScaleResult result, CancellationToken cancel)
    {
        var name = BenchMesh.NodeName(result.Nodes);
        var started = DateTimeOffset.UtcNow;
        var clock = Stopwatch.StartNew();
        var node = await mesh.StartNodeAsync(name, mesh.Nodes[0].ClusterAddress);
        result.JoinUpMs = clock.Elapsed.TotalMilliseconds;
        await BenchMesh.Until(async () => Fleet.FilesPresent(node) && await Fleet.AllOkAsync(node, name), $"{name} applied every manifest",
            TimeSpan.FromSeconds(60), cancel);
        var own = (await node.StatusAsync()).Manifests.Where(s => s.Node == name && s.Report is not null).Select(s => s.Report!).ToArray();
        result.JoinConfiguredMs = own.Max(r => (r.Time - started).TotalMilliseconds);
    }

    private static int Count(string text, string what)
    {
        var count = 0;
        for (var at = text.IndexOf(what, StringComparison.Ordinal); at >= 0; at = text.IndexOf(what, at + what.Length, StringComparison.Ordinal)) count++;
        return count;
    }

    private static long LinkBytes(string link) =>
        long.Parse(File.ReadAllText($"/sys/class/net/{link}/statistics/rx_bytes").Trim()) + long.Parse(File.ReadAllText($"/sys/class/net/{link}/statistics/tx_bytes").Trim());

    private static double DirectoryKiB(string dir) =>
        Directory.Exists(dir) ? new DirectoryInfo(dir).EnumerateFiles("*", SearchOption.AllDirectories).Sum(f => f.Length) / 1024.0 : 0;

    private static double MemAvailableMiB() =>
        File.ReadLines("/proc/meminfo").Where(l => l.StartsWith("MemAvailable:", StringComparison.Ordinal))
            .Select(l => long.Parse(l.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) / 1024.0).First();

    private static string Machine() => $"load {ProcFs.LoadAverage()}, {MemAvailableMiB():0} MiB available";

    /// <summary>
    /// The exponent k of value ≈ c·N^k, fitted by least squares over the sizes measured (log–log),
    /// and what it means; "–" with fewer than two sizes.
    /// </summary>
    public static string Growth(IReadOnlyList<(double N, double Value)> points)
    {
        var usable = points.Where(p => p.Value > 0 && double.IsFinite(p.Value)).ToArray();
        if (usable.Length < 2) return "–";
        var xs = usable.Select(p => Math.Log(p.N)).ToArray();
        var ys = usable.Select(p => Math.Log(p.Value)).ToArray();
        double mx = xs.Average(), my = ys.Average();
        var k = xs.Zip(ys, (x, y) => (x - mx) * (y - my)).Sum() / xs.Sum(x => (x - mx) * (x - mx));
        var words = k switch
        {
            < 0.2 => "about constant",
            < 0.75 => "sublinear",
            < 1.3 => "about linear",
            < 1.75 => "between N and N²",
            _ => "about N² or worse",
        };
        return $"N^{k:0.00} ({words})";
    }

    public static string Table(IReadOnlyList<ScaleResult> results)
    {
        var s = new StringBuilder();
        var measured = results.Where(r => r.Idle.Count > 0 || r.Push is not null || double.IsFinite(r.FormSeconds)).ToList();
        s.Append("| measure |");
        foreach (var r in measured) s.Append($" {r.Nodes} nodes |");
        s.AppendLine(" growth |");
        s.Append("|---|");
        foreach (var _ in measured) s.Append("---:|");
        s.AppendLine("---|");
        void Row(string what, Func<ScaleResult, double> f, int decimals = 0)
        {
            s.Append($"| {what} |");
            foreach (var r in measured) s.Append($" {Stats.F(f(r), decimals)} |");
            s.AppendLine($" {Growth(measured.Select(r => ((double)r.Nodes, f(r))).ToArray())} |");
        }
        Row("mesh formed (s, first process start → every node sees every node up)", r => r.FormSeconds, 1);
        Row("fleet manifests configured on every node (s, after the push)", r => r.ConfiguredSeconds, 1);
        Row("push → applied on every node, p50 (ms)", r => r.Push?.P50 ?? double.NaN);
        Row("push → applied on every node, p99 (ms)", r => r.Push?.P99 ?? double.NaN);
        Row("push → applied on every node, max (ms)", r => r.Push?.Max ?? double.NaN);
        Row("push round trip, median (ms)", r => r.Push is null ? double.NaN : Stats.Median(r.Push.PushRoundTrip));
        Row("one more node: process start → Up (ms)", r => r.JoinUpMs);
        Row("one more node: process start → configured (ms)", r => r.JoinConfiguredMs);
        Row("idle CPU per node, median (% of one core)", r => Median(r.Idle.Select(i => i.CpuPercent)), 2);
        Row("idle CPU per node, max (% of one core)", r => Max(r.Idle.Select(i => i.CpuPercent)), 2);
        Row("idle CPU, all nodes together (% of one core)", r => r.Idle.Count == 0 ? double.NaN : r.Idle.Sum(i => i.CpuPercent), 1);
        Row("machine busy in the idle window (% of both cores)", r => r.IdleMachine?.MachineBusyPercent ?? double.NaN, 1);
        Row("RSS per node, median (MiB)", r => Median(r.Idle.Select(i => i.RssMiB)), 1);
        Row("RSS per node, max (MiB)", r => Max(r.Idle.Select(i => i.RssMiB)), 1);
        Row("network in + out per node at rest, median (bytes/s)", r => Median(r.NetBytesPerSecond));
        Row("replicated state on disk per node, median (KiB)", r => Median(r.DdataKiB));
        Row("`mesh status`, cold CLI, median (ms)", r => Median(r.StatusMs), 1);
        Row("`mesh status` output (bytes; a summary past 30 rows)", r => r.StatusBytes);
        Row("`mesh status --table` output (bytes)", r => r.StatusTableBytes);
        Row("`mesh status --json` output (bytes)", r => r.StatusJsonBytes);
        Row("10 MiB body to every node at once: until all applied (ms)", r => r.HerdMs);
        Row("… content served by all nodes meanwhile (MiB)", r => r.HerdServedMiB, 1);
        Row("… of it served by the pushing node (%)", r => 100 * r.HerdOriginShare, 1);
        Row("… `mesh status` against the pushing node meanwhile, max (ms)", r => Max(r.HerdStatusMs));
        Row("\"marked UNREACHABLE\" log lines, all nodes", r => r.UnreachableMarks);
        Row("split-brain resolver decisions, all nodes", r => r.DownDecisions);
        Row("memory available, loaded (MiB)", r => r.MemAvailableMiBLoaded);
        s.AppendLine();
        foreach (var r in results.Where(r => r.Stopped is not null))
            s.AppendLine($"- **{r.Nodes} nodes: {r.Stopped}**");
        foreach (var r in measured.Where(r => r.Push is { Problems.Count: > 0 }))
            s.AppendLine($"- {r.Nodes} nodes, push problems: {string.Join("; ", r.Push!.Problems.Take(3))}{(r.Push.Problems.Count > 3 ? $" (+{r.Push.Problems.Count - 3} more)" : "")}");
        return s.ToString();
    }

    private static double Median(IEnumerable<double> values) => values.Any() ? Stats.Median(values) : double.NaN;
    private static double Max(IEnumerable<double> values) => values.DefaultIfEmpty(double.NaN).Max();

    /// <summary>The curves as PNG files in <paramref name="dir"/> (ScottPlot): the paths written.</summary>
    public static IReadOnlyList<string> Plot(IReadOnlyList<ScaleResult> results, string dir)
    {
        Directory.CreateDirectory(dir);
        var measured = results.Where(r => r.Idle.Count > 0).ToList();
        var written = new List<string>();
        void Figure(string file, string title, string unit, params (string Label, Func<ScaleResult, double> Value)[] series)
        {
            var plot = new ScottPlot.Plot();
            foreach (var (label, value) in series)
            {
                var points = measured.Select(r => (X: (double)r.Nodes, Y: value(r))).Where(p => double.IsFinite(p.Y)).ToArray();
                if (points.Length == 0) continue;
                var line = plot.Add.Scatter(points.Select(p => p.X).ToArray(), points.Select(p => p.Y).ToArray());
                line.LegendText = label;
            }
            plot.Title(title);
            plot.XLabel("nodes");
            plot.YLabel(unit);
            plot.ShowLegend();
            var path = Path.Combine(dir, file);
            plot.SavePng(path, 800, 480);
            written.Add(path);
        }
        Figure("scale-push.png", "push → applied on every node", "ms",
            ("p50", r => r.Push?.P50 ?? double.NaN), ("p99", r => r.Push?.P99 ?? double.NaN), ("max", r => r.Push?.Max ?? double.NaN));
        Figure("scale-idle-cpu.png", "idle CPU per node", "% of one core",
            ("median", r => Median(r.Idle.Select(i => i.CpuPercent))), ("max", r => Max(r.Idle.Select(i => i.CpuPercent))));
        Figure("scale-memory.png", "memory per node", "MiB",
            ("RSS median", r => Median(r.Idle.Select(i => i.RssMiB))), ("replicated state on disk", r => Median(r.DdataKiB) / 1024));
        Figure("scale-time.png", "forming and joining", "s",
            ("mesh formed", r => r.FormSeconds), ("fleet configured", r => r.ConfiguredSeconds),
            ("one more node configured", r => r.JoinConfiguredMs / 1000));
        Figure("scale-network.png", "network at rest per node", "KiB/s", ("in + out, median", r => Median(r.NetBytesPerSecond) / 1024));
        return written;
    }
}
