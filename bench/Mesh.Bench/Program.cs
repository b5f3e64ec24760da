using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using Mesh.Bench;

// mesh-bench [propagation|join|idle|all|catchup|restart|datadir|durability] [options]
// Starts real mesh-node processes on loopback (one per node) and prints a markdown table per figure.

const string Usage = """
    usage: mesh-bench [propagation|join|idle|all|catchup|restart|datadir|durability] [options]
      all = propagation, join and idle; durability = catchup, restart and datadir
      --nodes N[,N...]      mesh sizes for the propagation figure (default 3,10)
      --revisions N         counted revisions per propagation configuration (default 50)
      --warmup N            uncounted revisions after the mesh formed (default 3)
      --ddata-only N[,N...] sizes at which to measure with the announcement off (default: the largest of --nodes; none: skip)
      --propagation-settle S  pause between the mesh forming and the first push (default 0)
      --joins N             new nodes in the join figure (default 5)
      --idle-seconds S      idle measurement window (default 20)
      --settle-seconds S    pause before the idle window (default 5)
      --idle-nodes N        mesh size of the idle figure (default 3)
      --probe-revisions N   revisions of the latency probe after each idle window (default 20, 0 = none)
      --ticks T[,T...]      akka.scheduler.tick-duration values for the idle figure (default default,100ms)
      --propagation-ticks T[,T...]  tick-duration values for the propagation figure (default: default)
      --catchup-revisions N revisions a stopped node misses in the catchup figure (default 100)
      --catchup-runs N      restarts per catchup variant (default 3)
      --restart-manifests N manifests the lone node enforces in the restart figure (default 10)
      --restart-files N     files per manifest in the restart figure (default 10)
      --restart-runs N      restarts in the restart figure (default 5)
      --datadir-revisions N revisions pushed per datadir variant (default 1000)
      --datadir-manifests N manifests they are spread over in the second datadir variant (default 20; the first is 1)
      --node-config HOCON   a setting laid over every node's configuration (repeatable), e.g.
                            'akka.cluster.distributed-data.durable.keys = []' (no durable state)
    """;

var mode = "all";
var nodes = new List<int>();
var ddataOnly = new List<int>();
var ticks = new List<string?>();
var propagationTicks = new List<string?>();
int revisions = 50, warmup = 3, propagationSettle = 0, joins = 5, idleSeconds = 20, settleSeconds = 5, probeRevisions = 20, idleNodes = 3;
int catchupRevisions = 100, catchupRuns = 3, restartManifests = 10, restartFiles = 10, restartRuns = 5, datadirRevisions = 1000, datadirManifests = 20;
try
{
    for (var i = 0; i < args.Length; i++)
    {
        string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
        int Int() => int.Parse(Next(), CultureInfo.InvariantCulture);
        IEnumerable<int> Ints() => Next().Split(',', StringSplitOptions.RemoveEmptyEntries).Select(v => int.Parse(v, CultureInfo.InvariantCulture));
        switch (args[i])
        {
            case "propagation" or "join" or "idle" or "all" or "catchup" or "restart" or "datadir" or "durability": mode = args[i]; break;
            case "--catchup-revisions": catchupRevisions = Int(); break;
            case "--catchup-runs": catchupRuns = Int(); break;
            case "--restart-manifests": restartManifests = Int(); break;
            case "--restart-files": restartFiles = Int(); break;
            case "--restart-runs": restartRuns = Int(); break;
            case "--datadir-revisions": datadirRevisions = Int(); break;
            case "--datadir-manifests": datadirManifests = Int(); break;
            case "--nodes": nodes.AddRange(Ints()); break;
            case "--ddata-only" when i + 1 < args.Length && args[i + 1] == "none": i++; ddataOnly.Add(0); break;
            case "--ddata-only": ddataOnly.AddRange(Ints()); break;
            case "--propagation-settle": propagationSettle = Int(); break;
            case "--revisions": revisions = Int(); break;
            case "--warmup": warmup = Int(); break;
            case "--joins": joins = Int(); break;
            case "--idle-seconds": idleSeconds = Int(); break;
            case "--settle-seconds": settleSeconds = Int(); break;
            case "--probe-revisions": probeRevisions = Int(); break;
            case "--idle-nodes": idleNodes = Int(); break;
            case "--node-config": BenchMesh.ExtraHocon = (BenchMesh.ExtraHocon is null ? "" : BenchMesh.ExtraHocon + "\n") + Next(); break;
            case "--propagation-ticks": propagationTicks.AddRange(Next().Split(',').Select(t => t == "default" ? null : t)); break;
            case "--ticks": ticks.AddRange(Next().Split(',').Select(t => t == "default" ? null : t)); break;
            case "-h" or "--help": Console.WriteLine(Usage); return 0;
            default: throw new ArgumentException($"unknown argument '{args[i]}'");
        }
    }
    if (nodes.Count == 0) nodes.AddRange([3, 10]);
    if (ddataOnly.Count == 0) ddataOnly.Add(nodes.Max());
    ddataOnly.RemoveAll(n => n == 0);
    if (ticks.Count == 0) ticks.AddRange([null, "100ms"]);
    if (propagationTicks.Count == 0) propagationTicks.Add(null);
    if (nodes.Concat(ddataOnly).Any(n => n < 2)) throw new ArgumentException("a mesh needs at least 2 nodes");
    if (revisions < 1 || joins < 1 || idleSeconds < 1) throw new ArgumentException("counts and windows must be positive");
    if (catchupRevisions < 10 || catchupRuns < 1 || restartManifests < 1 || restartFiles < 1 || restartRuns < 1 || datadirRevisions < datadirManifests || datadirManifests < 1)
        throw new ArgumentException("durability counts must be positive (at least 10 catch-up revisions, and no more datadir manifests than revisions)");
}
catch (Exception e) when (e is ArgumentException or FormatException or OverflowException)
{
    Console.Error.WriteLine($"mesh-bench: {e.Message}\n{Usage}");
    return 2;
}

using var cancel = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) => { e.Cancel = true; cancel.Cancel(); };
using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; cancel.Cancel(); });

if (!File.Exists(Mesh.EndToEnd.Tests.Binaries.Node))
{
    Console.Error.WriteLine($"mesh-bench: {Mesh.EndToEnd.Tests.Binaries.Node} is missing; build with -c Release");
    return 2;
}

var workDir = Directory.CreateTempSubdirectory("mesh-bench-").FullName;
var total = Stopwatch.StartNew();
var nodeBuilt = Machine.NodeBuildTime();
try
{
    Console.WriteLine($"# mesh-bench {mode}");
    Console.WriteLine();
    Console.WriteLine(Machine.Describe());
    Console.WriteLine($"- command: `mesh-bench {string.Join(' ', args.Select(a => a.Contains(' ') ? $"'{a}'" : a))}`");
    if (BenchMesh.ExtraHocon is not null) Console.WriteLine($"- laid over every node's configuration: `{BenchMesh.ExtraHocon.Replace("\n", "; ")}`");
    Console.WriteLine();

    if (mode is "propagation" or "all")
    {
        var scenarios = propagationTicks.SelectMany(tick => nodes.Select(n => new Scenario(n, Announce: true, tick))
            .Concat(ddataOnly.Select(n => new Scenario(n, Announce: false, tick))))
            .ToList();
        var results = new List<PropagationResult>();
        foreach (var (scenario, i) in scenarios.Select((s, i) => (s, i)))
            results.Add(await Propagation.RunAsync(scenario, Path.Combine(workDir, $"propagation-{i}"), revisions, warmup, propagationSettle, cancel.Token));
        Console.WriteLine("## 1. Push accepted → applied on every node");
        Console.WriteLine();
        Console.WriteLine(Propagation.Table(results));
        Console.WriteLine("Spread of the all-nodes latency (revisions per bucket):");
        Console.WriteLine();
        foreach (var r in results) Console.WriteLine($"- {Propagation.Histogram(r)}");
        Console.WriteLine();
        Console.WriteLine("Median latency per node (ms):");
        Console.WriteLine();
        foreach (var r in results) Console.WriteLine($"- {Propagation.PerNodeLine(r)}");
        Console.WriteLine();
        PrintWarnings(results.Select(r => ($"{r.Scenario.Nodes} nodes, {r.Scenario.PathName}", r.Warnings)));
    }

    if (mode is "join" or "all")
    {
        var result = await Join.RunAsync(Path.Combine(workDir, "join"), joins, cancel.Token);
        Console.WriteLine("## 2. Node start → self-configured");
        Console.WriteLine();
        Console.WriteLine($"3-node mesh formed in {result.FormTime.TotalSeconds:0.0} s, holding {Fleet.Manifests.Length} manifests ({Fleet.Files.Length} managed files).");
        Console.WriteLine();
        Console.WriteLine(Join.Table(result));
        PrintWarnings([("join", result.Warnings)]);
    }

    if (mode is "idle" or "all")
    {
        var results = new List<IdleResult>();
        foreach (var (tick, i) in ticks.Select((t, i) => (t, i)))
            results.Add(await Idle.RunAsync(Path.Combine(workDir, $"idle-{i}"), idleNodes, tick, idleSeconds, settleSeconds, probeRevisions, cancel.Token));
        Console.WriteLine($"## 3. Idle footprint ({idleNodes}-node mesh)");
        Console.WriteLine();
        Console.WriteLine(Idle.Table(results));
        PrintWarnings(results.Select(r => ($"idle, tick {r.Tick}", r.Warnings)));
    }

    if (mode is "catchup" or "restart" or "datadir" or "durability")
    {
        var result = new DurabilityResult();
        if (mode is "catchup" or "durability")
            await Durability.CatchupAsync(result, workDir, catchupRevisions, catchupRuns, cancel.Token);
        if (mode is "restart" or "durability")
            await Durability.RestartAsync(result, workDir, restartManifests, restartFiles, restartRuns, cancel.Token);
        if (mode is "datadir" or "durability")
        {
            await Durability.DataDirAsync(result, workDir, 1, datadirRevisions, cancel.Token);
            await Durability.DataDirAsync(result, workDir, datadirManifests, datadirRevisions, cancel.Token);
        }
        Console.WriteLine("## Durability");
        Console.WriteLine();
        Console.WriteLine(Durability.Table(result));
        PrintWarnings(result.Warnings);
    }

    if (Machine.NodeBuildTime() != nodeBuilt)
        Console.WriteLine($"Note: mesh-node was rebuilt during the run (now {Machine.NodeBuildTime():HH:mm:ss} UTC); nodes started after that ran the new build.\n");
    Console.WriteLine($"Total run time: {total.Elapsed.TotalSeconds:0} s.");
    return 0;
}
catch (OperationCanceledException) when (cancel.IsCancellationRequested)
{
    Console.Error.WriteLine("mesh-bench: interrupted; every node was stopped");
    return 130;
}
catch (Exception e) when (e is TimeoutException or InvalidOperationException or HttpRequestException)
{
    Console.Error.WriteLine($"mesh-bench: {e.Message}");
    return 1;
}
finally
{
    try
    {
        Directory.Delete(workDir, recursive: true);
    }
    catch (IOException e)
    {
        Console.Error.WriteLine($"mesh-bench: could not remove {workDir}: {e.Message}");
    }
}

static void PrintWarnings(IEnumerable<(string What, IReadOnlyList<(string Line, int Count)> Lines)> groups)
{
    var any = false;
    foreach (var (what, lines) in groups)
    {
        if (lines.Count == 0) continue;
        if (!any) Console.WriteLine("Warnings and errors in the node logs (line with addresses and numbers masked, times seen, nodes):\n");
        any = true;
        Console.WriteLine($"- {what}:");
        foreach (var (line, count) in lines.Take(12)) Console.WriteLine($"  - ×{count} {line}");
        if (lines.Count > 12) Console.WriteLine($"  - … {lines.Count - 12} more distinct lines");
    }
    Console.WriteLine(any ? "" : "No warnings or errors in the node logs.\n");
}

static class Machine
{
    public static string Describe()
    {
        var mem = File.ReadLines("/proc/meminfo").First(l => l.StartsWith("MemTotal:", StringComparison.Ordinal));
        var kib = long.Parse(mem.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture);
        var os = File.Exists("/etc/os-release")
            ? File.ReadLines("/etc/os-release").FirstOrDefault(l => l.StartsWith("PRETTY_NAME=", StringComparison.Ordinal))?["PRETTY_NAME=".Length..].Trim('"') ?? "Linux"
            : "Linux";
        var debian = File.Exists("/etc/debian_version") ? $" ({File.ReadAllText("/etc/debian_version").Trim()})" : "";
        var kernel = File.ReadAllText("/proc/sys/kernel/osrelease").Trim();
        return $"""
            - date: {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC
            - machine: {Environment.ProcessorCount} cores, {kib / 1024.0 / 1024.0:0.0} GiB memory, {os}{debian}, kernel {kernel}
            - runtime: {RuntimeInformation.FrameworkDescription}; one mesh-node process per node, loopback
            - load average (1 min) at start: {ProcFs.LoadAverage()}
            - code: {CodeVersion()}; mesh-node built {NodeBuildTime():yyyy-MM-dd HH:mm:ss} UTC
            """;
    }

    /// <summary>When the mesh-node binary the nodes run was written (it is rebuilt by any build of the solution).</summary>
    public static DateTime NodeBuildTime() => File.GetLastWriteTimeUtc(Mesh.EndToEnd.Tests.Binaries.Node);

    /// <summary>The commit the binaries were built from, and whether the working tree differed from it.</summary>
    private static string CodeVersion()
    {
        var head = Git("rev-parse", "--short", "HEAD");
        if (head is null) return "unknown (no git)";
        var changes = Git("--no-optional-locks", "status", "--porcelain", "--untracked-files=no");
        return changes is { Length: > 0 } ? $"commit {head} with uncommitted changes" : $"commit {head}";
    }

    private static string? Git(params string[] args)
    {
        try
        {
            var info = new ProcessStartInfo("git") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = Mesh.EndToEnd.Tests.Binaries.RepoRoot };
            foreach (var a in args) info.ArgumentList.Add(a);
            using var p = Process.Start(info)!;
            try
            {
                var stdout = p.StandardOutput.ReadToEndAsync();
                if (!p.WaitForExit(10_000)) return null;
                return p.ExitCode == 0 ? stdout.Result.Trim() : null;
            }
            finally
            {
                if (!p.HasExited) p.Kill(entireProcessTree: true);
            }
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return null;
        }
    }
}
