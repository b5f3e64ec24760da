using System.CommandLine;
using System.CommandLine.Help;
using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using Mesh.Bench;

// mesh-bench [propagation|join|idle|all|catchup|restart|datadir|durability|rollout|ack] [options]
// Starts real mesh-node processes on loopback (one per node) and prints a markdown table per figure.

var modeArgument = new Argument<string>("mode")
{
    Description = "which figures: all = propagation, join and idle; cli = cold CLI commands; first-push = the first pushes after a mesh forms; durability = catchup, restart and datadir; ack = what --ack local/majority/all costs a push; scale = the fleet's costs per size, a network namespace per node",
    Arity = ArgumentArity.ZeroOrOne,
    DefaultValueFactory = _ => "all",
};
modeArgument.AcceptOnlyFromAmong("propagation", "join", "idle", "cli", "first-push", "all", "catchup", "restart", "datadir", "durability", "rollout", "ack", "scale", "attached");
var nodesOption = Sizes("--nodes", "mesh sizes for the propagation and ack figures (default 3,10)");
var revisionsOption = Count("--revisions", "counted revisions per propagation configuration", 50);
var warmupOption = Count("--warmup", "uncounted revisions after the mesh formed", 3);
var ddataOnlyOption = Sizes("--ddata-only", "sizes at which to measure with the announcement off (default: the largest of --nodes; none: skip)", none: true);
var propagationSettleOption = Count("--propagation-settle", "pause between the mesh forming and the first push, seconds", 0, "S");
var joinsOption = Count("--joins", "new nodes in the join figure", 5);
var idleSecondsOption = Count("--idle-seconds", "idle measurement window, seconds", 20, "S");
var settleSecondsOption = Count("--settle-seconds", "pause before the idle window, seconds", 5, "S");
var idleNodesOption = Sizes("--idle-nodes", "mesh sizes of the idle figure (default 3)");
var cliRunsOption = Count("--cli-runs", "cold runs of each command in the cli figure", 20);
var noSerfOption = new Option<bool>("--no-serf") { Description = "do not measure serf agents beside Mesh (they are measured when serf is installed)" };
var probeRevisionsOption = Count("--probe-revisions", "revisions of the latency probe after each idle window (0 = none)", 20);
var ticksOption = Ticks("--ticks", "akka.scheduler.tick-duration values for the idle figure (default default,100ms)");
var propagationTicksOption = Ticks("--propagation-ticks", "tick-duration values for the propagation figure (default: default)");
var catchupRevisionsOption = Count("--catchup-revisions", "revisions a stopped node misses in the catchup figure", 100);
var catchupRunsOption = Count("--catchup-runs", "restarts per catchup variant", 3);
var restartManifestsOption = Count("--restart-manifests", "manifests the lone node enforces in the restart figure", 10);
var restartFilesOption = Count("--restart-files", "files per manifest in the restart figure", 10);
var restartRunsOption = Count("--restart-runs", "restarts in the restart figure", 5);
var datadirRevisionsOption = Count("--datadir-revisions", "revisions pushed per datadir variant", 1000);
var datadirManifestsOption = Count("--datadir-manifests", "manifests they are spread over in the second datadir variant (the first is 1)", 20);
var rolloutNodesOption = Sizes("--rollout-nodes", "mesh sizes of the rollout figure (default 10,100)");
var rolloutBatchesOption = new Option<string>("--rollout-batches") { Description = "cumulative batches of the rollout figure", DefaultValueFactory = _ => "25%,50%,75%,100%" };
var rolloutRunsOption = Count("--rollout-runs", "counted rollouts per size in the rollout figure (after one uncounted)", 5);
var ackSamplesOption = Count("--ack-samples", "counted pushes per ack level and size in the ack figure (after one uncounted)", 20);
var scaleNodesOption = Sizes("--scale-nodes", "fleet sizes of the scale figure, in order; it stops at the first the machine cannot hold (default 10,25,50,100,200)");
var scaleRevisionsOption = Count("--scale-revisions", "counted revisions per size in the scale figure (after two uncounted)", 10);
var scaleIdleOption = Count("--scale-idle", "idle window per size in the scale figure, seconds", 60, "S");
var scaleSettleOption = Count("--scale-settle", "pause before the idle window in the scale figure, seconds", 20, "S");
var statusRunsOption = Count("--status-runs", "cold `mesh status` runs per size in the scale figure", 5);
var loopbackOption = new Option<bool>("--loopback") { Description = "scale figure on loopback, not a network namespace per node" };
var plotsOption = new Option<string?>("--plots") { Description = "where the scale figure writes its PNG plots (default: none)", HelpName = "DIR" };
var attachedPeersOption = Count("--attached-peers", "core peers of the attached figure", 3);
var attachedRealOption = Sizes("--attached-real", "fleets of mesh-node --attach processes in the attached figure (default 10,50,100; none: skip)", none: true);
var attachedSimulatedOption = Sizes("--attached-simulated", "fleets of simulated hosts in the attached figure (default 250,500,1000; none: skip)", none: true);
var attachedProcessesOption = Count("--attached-processes", "mesh-hostsim processes the simulated hosts are spread over", 4);
var attachedRevisionsOption = Count("--attached-revisions", "counted revisions per fleet in the attached figure (after one uncounted)", 10);
var attachedBodyOption = Count("--attached-body", "size of the body pushed to every host at once in the attached figure, MiB", 1, "MIB");
var hostSimOption = new Option<string?>("--hostsim") { Description = "the mesh-hostsim binary (default: its Release build in bench/Mesh.HostSim)", HelpName = "PATH" };
var nodeConfigOption = new Option<string[]>("--node-config")
{
    Description = "a setting laid over every node's configuration (repeatable), e.g. 'akka.cluster.distributed-data.durable.keys = []' (no durable state)",
    HelpName = "HOCON",
};
var root = new RootCommand("mesh-bench: real mesh-node processes on loopback (one per node), a markdown table per figure")
{
    modeArgument, nodesOption, revisionsOption, warmupOption, ddataOnlyOption, propagationSettleOption, joinsOption, idleSecondsOption,
    settleSecondsOption, idleNodesOption, cliRunsOption, noSerfOption, probeRevisionsOption, ticksOption, propagationTicksOption, catchupRevisionsOption, catchupRunsOption,
    restartManifestsOption, restartFilesOption, restartRunsOption, datadirRevisionsOption, datadirManifestsOption, nodeConfigOption,
    rolloutNodesOption, rolloutBatchesOption, rolloutRunsOption, ackSamplesOption,
    scaleNodesOption, scaleRevisionsOption, scaleIdleOption, scaleSettleOption, statusRunsOption, loopbackOption, plotsOption,
    attachedPeersOption, attachedRealOption, attachedSimulatedOption, attachedProcessesOption, attachedRevisionsOption, attachedBodyOption, hostSimOption,
};
// Only what the bench measures: no --version.
root.Options.Remove(root.Options.OfType<VersionOption>().Single());

var parse = root.Parse(args);
if (parse.Action is HelpAction) return parse.Invoke();
if (parse.Errors.Count > 0) return Refuse(parse.Errors.Select(e => e.Message));

var mode = parse.GetValue(modeArgument)!;
var nodes = parse.GetValue(nodesOption) is { Length: > 0 } given ? given : [3, 10];
var ddataOnly = (parse.GetValue(ddataOnlyOption) is { Length: > 0 } sizesOff ? sizesOff : [nodes.Max()]).Where(n => n != 0).ToList();
var ticks = parse.GetValue(ticksOption) is { Length: > 0 } idleTicks ? idleTicks : [null, "100ms"];
var propagationTicks = parse.GetValue(propagationTicksOption) is { Length: > 0 } pushTicks ? pushTicks : [null];
int revisions = parse.GetValue(revisionsOption), warmup = parse.GetValue(warmupOption), propagationSettle = parse.GetValue(propagationSettleOption);
int joins = parse.GetValue(joinsOption), idleSeconds = parse.GetValue(idleSecondsOption), settleSeconds = parse.GetValue(settleSecondsOption);
int probeRevisions = parse.GetValue(probeRevisionsOption), cliRuns = parse.GetValue(cliRunsOption);
var idleNodes = parse.GetValue(idleNodesOption) is { Length: > 0 } idleSizes ? idleSizes : [3];
int catchupRevisions = parse.GetValue(catchupRevisionsOption), catchupRuns = parse.GetValue(catchupRunsOption);
int restartManifests = parse.GetValue(restartManifestsOption), restartFiles = parse.GetValue(restartFilesOption), restartRuns = parse.GetValue(restartRunsOption);
int datadirRevisions = parse.GetValue(datadirRevisionsOption), datadirManifests = parse.GetValue(datadirManifestsOption);
SerfAgents.Skip = parse.GetValue(noSerfOption);
if (parse.GetValue(nodeConfigOption) is { Length: > 0 } nodeConfig) BenchMesh.ExtraHocon = string.Join("\n", nodeConfig);
var problem =
    nodes.Concat(ddataOnly).Any(n => n < 2) ? "a mesh needs at least 2 nodes"
    : revisions < 1 || joins < 1 || idleSeconds < 1 ? "counts and windows must be positive"
    : catchupRevisions < 10 || catchupRuns < 1 || restartManifests < 1 || restartFiles < 1 || restartRuns < 1 || datadirRevisions < datadirManifests || datadirManifests < 1
        ? "durability counts must be positive (at least 10 catch-up revisions, and no more datadir manifests than revisions)"
    : null;
if (problem is not null) return Refuse([problem]);

using var cancel = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) => { e.Cancel = true; cancel.Cancel(); };
using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; cancel.Cancel(); });

if (!File.Exists(Mesh.EndToEnd.Tests.Binaries.Node))
{
    Console.Error.WriteLine($"mesh-bench: {Mesh.EndToEnd.Tests.Binaries.Node} is missing; build with -c Release");
    return 2;
}

// Programs as packaged run as the package's systemd unit runs them: with its Environment= lines.
if (Mesh.EndToEnd.Tests.Binaries.Published is not null)
    foreach (var line in File.ReadLines(Path.Combine(Mesh.EndToEnd.Tests.Binaries.RepoRoot, "packaging", "mesh-node.service")))
        if (line.StartsWith("Environment=", StringComparison.Ordinal) && line["Environment=".Length..].Split('=', 2) is [var key, var value]
            && Environment.GetEnvironmentVariable(key) is null) // set by the caller: theirs (e.g. to measure an older build as it ran)
            Environment.SetEnvironmentVariable(key, value);

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
        foreach (var (size, tick, i) in idleNodes.SelectMany(n => ticks.Select(t => (n, t))).Select((x, i) => (x.n, x.t, i)))
            results.Add(await Idle.RunAsync(Path.Combine(workDir, $"idle-{i}"), size, tick, idleSeconds, settleSeconds, probeRevisions, cancel.Token));
        Console.WriteLine($"## 3. Idle footprint ({string.Join(", ", idleNodes)}-node mesh)");
        Console.WriteLine();
        Console.WriteLine(Idle.Table(results));
        PrintWarnings(results.Select(r => ($"idle, tick {r.Tick}", r.Warnings)));
    }

    if (mode is "first-push")
    {
        var timing = await ColdCli.FirstPushesAsync(Path.Combine(workDir, "first-push"), 5, cancel.Token);
        Console.WriteLine("## The first pushes after a mesh formed (3 nodes)");
        Console.WriteLine();
        Console.WriteLine(ColdCli.FirstPushTable(timing));
    }

    if (mode is "cli")
    {
        var timings = await ColdCli.RunAsync(Path.Combine(workDir, "cli"), cliRuns, cancel.Token);
        Console.WriteLine("## The CLI, cold");
        Console.WriteLine();
        Console.WriteLine(ColdCli.Table(timings));
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

    if (mode is "ack")
    {
        var results = new List<AckResult>();
        foreach (var (size, i) in nodes.Select((n, i) => (n, i)))
            results.Add(await Ack.RunAsync(Path.Combine(workDir, $"ack-{i}"), size, parse.GetValue(ackSamplesOption), cancel.Token));
        Console.WriteLine("## What the acknowledgement costs a push");
        Console.WriteLine();
        Console.WriteLine("Wall time of `POST /v1/push` through one node (the CLI left out), one small manifest, levels interleaved.");
        Console.WriteLine();
        Console.WriteLine(Ack.Table(results));
        PrintWarnings(results.Select(r => ($"ack, {r.Nodes} nodes", r.Warnings)));
    }

    if (mode is "rollout")
    {
        var results = new List<RolloutResult>();
        var sizes = parse.GetValue(rolloutNodesOption) is { Length: > 0 } rolloutSizes ? rolloutSizes : [10, 100];
        foreach (var (size, i) in sizes.Select((n, i) => (n, i)))
            results.Add(await Rollout.RunAsync(Path.Combine(workDir, $"rollout-{i}"), size, parse.GetValue(rolloutBatchesOption)!, parse.GetValue(rolloutRunsOption), cancel.Token));
        Console.WriteLine("## Rollouts: the cost of a batch boundary");
        Console.WriteLine();
        Console.WriteLine(Rollout.Table(results));
        PrintWarnings(results.Select(r => ($"rollout, {r.Nodes} nodes", r.Warnings)));
    }

    if (mode is "scale")
    {
        var sizes = parse.GetValue(scaleNodesOption) is { Length: > 0 } scaleSizes ? scaleSizes : [10, 25, 50, 100, 200];
        var options = new Scale.Options(sizes, parse.GetValue(scaleRevisionsOption), parse.GetValue(scaleSettleOption), parse.GetValue(scaleIdleOption),
            parse.GetValue(statusRunsOption), parse.GetValue(loopbackOption));
        var results = await Scale.RunAsync(Path.Combine(workDir, "scale"), options, cancel.Token);
        Console.WriteLine($"## A fleet on one machine: costs per size ({(results.FirstOrDefault()?.Namespaces == true ? "a network namespace per node" : "loopback")})");
        Console.WriteLine();
        Console.WriteLine(Scale.Table(results));
        if (parse.GetValue(plotsOption) is { } plots)
            foreach (var png in Scale.Plot(results, plots)) Console.WriteLine($"- plot: {png}");
        Console.WriteLine();
        PrintWarnings(results.Select(r => ($"scale, {r.Nodes} nodes", r.Warnings)));
    }

    if (mode is "attached")
    {
        var real = parse.GetValue(attachedRealOption) is { Length: > 0 } realSizes ? realSizes.Where(n => n != 0).ToArray() : [10, 50, 100];
        var simulated = parse.GetValue(attachedSimulatedOption) is { Length: > 0 } simSizes ? simSizes.Where(n => n != 0).ToArray() : [250, 500, 1000];
        var hostSim = parse.GetValue(hostSimOption)
            ?? Path.Combine(Mesh.EndToEnd.Tests.Binaries.RepoRoot, "bench", "Mesh.HostSim", "bin", "Release", "net10.0", "mesh-hostsim");
        if (simulated.Length > 0 && !File.Exists(hostSim)) return Refuse([$"{hostSim} does not exist: build bench/Mesh.HostSim -c Release, or give --hostsim"]);
        var options = new Attached.Options(parse.GetValue(attachedPeersOption), real, simulated, parse.GetValue(attachedProcessesOption),
            parse.GetValue(attachedRevisionsOption), parse.GetValue(scaleSettleOption), parse.GetValue(scaleIdleOption), hostSim,
            parse.GetValue(attachedBodyOption));
        var results = await Attached.RunAsync(Path.Combine(workDir, "attached"), options, cancel.Token);
        Console.WriteLine($"## Hosts attached to a core of {options.Peers} peers (loopback)");
        Console.WriteLine();
        Console.WriteLine(Attached.Table(results));
        PrintWarnings(results.Select(r => ($"attached, {r.Hosts}{(r.Simulated ? " simulated" : "")} hosts", r.Warnings)));
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

// What the hand-rolled parser did before: each problem, then the usage, on stderr; exit 2.
int Refuse(IEnumerable<string> problems)
{
    foreach (var problem in problems) Console.Error.WriteLine($"mesh-bench: {problem}");
    root.Parse(["--help"]).Invoke(new InvocationConfiguration { Output = Console.Error });
    return 2;
}

static Option<int> Count(string name, string description, int defaultValue, string helpName = "N") =>
    new(name) { Description = description, HelpName = helpName, DefaultValueFactory = _ => defaultValue };

/// <summary>Mesh sizes, comma-separated and repeatable; with <paramref name="none"/>, the word none stands for 0 (skip).</summary>
static Option<int[]> Sizes(string name, string description, bool none = false) => new(name)
{
    Description = description,
    HelpName = "N[,N...]",
    CustomParser = result =>
    {
        var sizes = new List<int>();
        foreach (var token in result.Tokens)
        {
            if (none && token.Value == "none")
            {
                sizes.Add(0);
                continue;
            }
            foreach (var value in token.Value.Split(',', StringSplitOptions.RemoveEmptyEntries))
                if (int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n)) sizes.Add(n);
                else result.AddError($"{name}: '{value}' is not a whole number");
        }
        return [.. sizes];
    },
};

/// <summary>tick-duration values, comma-separated and repeatable; the word default stands for the embedded one (null).</summary>
static Option<string?[]> Ticks(string name, string description) => new(name)
{
    Description = description,
    HelpName = "T[,T...]",
    CustomParser = result => [.. result.Tokens.SelectMany(t => t.Value.Split(',')).Select(t => t == "default" ? null : t)],
};

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
            - programs: {(Mesh.EndToEnd.Tests.Binaries.Published is { } dir ? $"as packaged (`packaging/build-deb.sh --publish-only`: mesh-node self-contained ReadyToRun, mesh NativeAOT) from {dir}, with the unit's Environment= lines" : "the development build (framework-dependent assemblies under dotnet)")}
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
