using System.Diagnostics;
using System.Text;
using Mesh.EndToEnd.Tests;
using Mesh.Protocol.Wire;
using static Mesh.Bench.Progress;

namespace Mesh.Bench;

/// <summary>What one fleet of attached hosts measured.</summary>
public sealed class AttachedResult(int peers, int hosts, bool simulated, int processes)
{
    public int Peers { get; } = peers;
    public int Hosts { get; } = hosts;
    /// <summary>Simulated hosts (<c>mesh-hostsim</c>, many per process) rather than a <c>mesh-node --attach</c> process each.</summary>
    public bool Simulated { get; } = simulated;
    public int Processes { get; } = processes;
    public string? Stopped { get; set; }
    public double AttachSeconds { get; set; } = double.NaN;
    public double ConfiguredSeconds { get; set; } = double.NaN;
    /// <summary>Per revision: push → the last host's report (ms, by the hosts' report times).</summary>
    public List<double> AllApplied { get; } = [];
    /// <summary>Per host and revision: push → that host's report (ms).</summary>
    public List<double> EachApplied { get; } = [];
    public List<double> PushRoundTrip { get; } = [];
    public List<IdleSample> PeerIdle { get; } = [];
    public List<IdleSample> HostIdle { get; } = [];
    public double JoinConfiguredMs { get; set; } = double.NaN;
    public double BodyMs { get; set; } = double.NaN;
    public double BodyServedMiB { get; set; } = double.NaN;
    public double BodyOriginShare { get; set; } = double.NaN;
    public int BodyMiB { get; set; } = 1;
    public List<double> BodyStatusMs { get; } = [];
    public int UnreachableMarks { get; set; }
    public IReadOnlyList<(string Line, int Count)> Warnings { get; set; } = [];
}

/// <summary>
/// Hosts attached to a core of peers (docs/SCALING.md, "The design for 10 000 hosts"): three
/// core peers (<c>mesh.attached.serve</c>), then N attached hosts: real <c>mesh-node --attach</c>
/// processes, or simulated ones (<c>mesh-hostsim</c>: the product's own link and content fetcher,
/// many hosts per process, no resource applied). Per fleet: until every host is attached; idle
/// CPU and RSS of the peers and the hosts; push → applied on every host (by the hosts' report
/// times); one more host configured; a body (1 MiB, `--attached-body`) to every host at once (bytes served by each
/// peer, <c>mesh status</c> meanwhile). On loopback.
/// </summary>
public static class Attached
{
    public sealed record Options(int Peers, int[] Real, int[] Simulated, int Processes, int Revisions, int SettleSeconds, int IdleSeconds, string HostSim,
        int BodyMiB = 1);

    public const string Manifest = "bench-attached";
    public const string BodyManifest = "bench-attached-body";

    public static async Task<IReadOnlyList<AttachedResult>> RunAsync(string workDir, Options options, CancellationToken cancel)
    {
        var results = new List<AttachedResult>();
        var fleets = options.Real.Select(n => new AttachedResult(options.Peers, n, false, n))
            .Concat(options.Simulated.Select(n => new AttachedResult(options.Peers, n, true, options.Processes)));
        foreach (var result in fleets)
        {
            results.Add(result);
            try
            {
                await MeasureAsync(Path.Combine(workDir, $"attached-{(result.Simulated ? "sim" : "real")}-{result.Hosts}"), result, options, cancel);
            }
            catch (Exception e) when (e is TimeoutException or InvalidOperationException or HttpRequestException && !cancel.IsCancellationRequested)
            {
                var lines = e.Message.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
                result.Stopped = $"{lines.FirstOrDefault()}{(lines.Length > 1 ? $"; its log ends: {lines[^1]}" : "")} (load {ProcFs.LoadAverage()})";
                Log($"attached: {result.Hosts}: stopped: {result.Stopped}");
            }
        }
        return results;
    }

    private static async Task MeasureAsync(string dir, AttachedResult result, Options options, CancellationToken cancel)
    {
        var what = result.Simulated ? $"{result.Hosts} simulated hosts in {result.Processes} processes" : $"{result.Hosts} mesh-node --attach processes";
        Log($"attached: {what}, {result.Peers} core peers (load {ProcFs.LoadAverage()})");
        await using var mesh = await BenchMesh.StartAsync(dir, result.Peers, "mesh.attached.serve = on\n", cancel);
        var peers = mesh.Nodes.ToArray();
        var contacts = peers.Select(p => p.ClusterAddress).ToArray();
        await using var sims = new SimulatorGroup();
        try
        {
            var clock = Stopwatch.StartNew();
            var hosts = new List<NodeProcess>();
            if (result.Simulated)
            {
                var per = (result.Hosts + result.Processes - 1) / result.Processes;
                for (var p = 0; p < result.Processes; p++)
                    sims.Start(options.HostSim, Math.Min(per, result.Hosts - p * per), $"s{p}-", contacts, Path.Combine(dir, $"sim{p}"));
            }
            else
            {
                // A few at a time: each runtime takes a second of CPU to start.
                using var gate = new SemaphoreSlim(Math.Max(2, Environment.ProcessorCount));
                await Task.WhenAll(Enumerable.Range(0, result.Hosts).Select(async i =>
                {
                    await gate.WaitAsync(cancel);
                    try
                    {
                        var host = await mesh.StartAttachedAsync($"h{i:000}", [contacts[i % contacts.Length]], ["host"]);
                        lock (hosts) hosts.Add(host);
                    }
                    finally
                    {
                        gate.Release();
                    }
                }));
            }
            await BenchMesh.Until(async () => (await peers[0].MembersAsync()).Count(m => m.Status == "attached") == result.Hosts,
                $"{peers[0].Name} lists {result.Hosts} attached hosts", TimeSpan.FromSeconds(60 + result.Hosts / 5), cancel);
            result.AttachSeconds = clock.Elapsed.TotalSeconds;
            Log($"attached: {result.Hosts}: every host attached in {result.AttachSeconds:0.0} s");

            await using var feed = await mesh.FollowReportsAsync(peers[0], cancel);
            clock.Restart();
            await PushAndCollectAsync(mesh, peers[0], feed, result, 0, counted: false, cancel);
            result.ConfiguredSeconds = clock.Elapsed.TotalSeconds;
            Log($"attached: {result.Hosts}: every host configured in {result.ConfiguredSeconds:0.0} s; settling {options.SettleSeconds} s, idle {options.IdleSeconds} s");

            await Task.Delay(TimeSpan.FromSeconds(options.SettleSeconds), cancel);
            var watched = peers.Concat(hosts).ToArray();
            var before = CpuSnapshot.Take(watched);
            var simBefore = sims.CpuSeconds();
            await Task.Delay(TimeSpan.FromSeconds(options.IdleSeconds), cancel);
            var use = CpuSnapshot.Take(watched).Since(before);
            var simUse = sims.CpuSeconds().Zip(simBefore, (a, b) => a - b).ToArray();
            for (var i = 0; i < watched.Length; i++)
                (i < peers.Length ? result.PeerIdle : result.HostIdle).Add(new IdleSample(watched[i].Name, ProcFs.StatusField(watched[i].Pid, "VmRSS") / 1024.0,
                    100 * use.NodeSeconds[i] / use.WallSeconds, ProcFs.StatusField(watched[i].Pid, "Threads")));
            // A simulator process stands for its hosts: its figures divided among them.
            foreach (var (sim, i) in sims.Processes.Select((s, i) => (s, i)))
                result.HostIdle.Add(new IdleSample($"sim{i}", ProcFs.StatusField(sim.Process.Id, "VmRSS") / 1024.0 / sim.Count,
                    100 * simUse[i] / use.WallSeconds / sim.Count, ProcFs.StatusField(sim.Process.Id, "Threads")));
            Log($"attached: {result.Hosts}: idle peers CPU median {Stats.Median(result.PeerIdle.Select(s => s.CpuPercent)):0.00} %, " +
                $"per host {Stats.Median(result.HostIdle.Select(s => s.CpuPercent)):0.000} %, RSS per host {Stats.Median(result.HostIdle.Select(s => s.RssMiB)):0.0} MiB");

            Log($"attached: {result.Hosts}: push → applied on every host, {options.Revisions} revisions");
            for (var r = 1; r <= options.Revisions; r++) await PushAndCollectAsync(mesh, peers[(r - 1) % peers.Length], feed, result, r, counted: true, cancel);

            if (!result.Simulated)
            {
                Log($"attached: {result.Hosts}: one more host");
                var started = DateTimeOffset.UtcNow;
                var extra = await mesh.StartAttachedAsync("h-extra", contacts, ["host"]);
                await BenchMesh.Until(async () => (await peers[0].StatusAsync()).Manifests.Any(s => s is { Node: "h-extra", State: "ok" }),
                    "h-extra configured", TimeSpan.FromSeconds(60), cancel);
                var report = (await peers[0].StatusAsync()).Manifests.First(s => s.Node == "h-extra").Report!;
                result.JoinConfiguredMs = (report.Time - started).TotalMilliseconds;
            }

            Log($"attached: {result.Hosts}: a {options.BodyMiB} MiB body to every host at once");
            await BodyAsync(mesh, peers, feed, result, dir, options.BodyMiB, cancel);
        }
        finally
        {
            result.UnreachableMarks = mesh.Nodes.Sum(n => Count(n.Log, "as UNREACHABLE"));
            result.Warnings = mesh.Warnings();
        }
    }

    /// <summary>Pushes revision <paramref name="r"/> of the hosts' manifest through <paramref name="via"/> and waits for every host's ok report.</summary>
    private static async Task PushAndCollectAsync(BenchMesh mesh, NodeProcess via, ReportFeed feed, AttachedResult result, int r, bool counted,
        CancellationToken cancel, string manifest = Manifest, string? content = null)
    {
        var yaml = $"manifest: {manifest}\ntarget: {{ roles: [host] }}\nresources:\n  - id: conf\n    type: file\n    path: /{manifest}.conf\n    content: |\n      {content ?? $"revision {r}"}\n";
        var clock = Stopwatch.StartNew();
        var pushed = (await mesh.PushAsync(via, manifest + ".yaml", yaml, $"bench attached {r}", cancel)).Revisions.Single().Revision;
        if (counted) result.PushRoundTrip.Add(clock.Elapsed.TotalMilliseconds);
        var seen = new Dictionary<string, ApplyReport>(StringComparer.Ordinal);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancel);
        timeout.CancelAfter(TimeSpan.FromSeconds(60 + result.Hosts / 10));
        try
        {
            while (seen.Count < result.Hosts)
            {
                var report = await feed.Reports.ReadAsync(timeout.Token);
                if (report.Manifest != manifest || !report.Version.Equals(pushed.Version) || report.Outcome != ApplyOutcome.Ok) continue;
                seen.TryAdd(report.Node, report);
            }
        }
        catch (OperationCanceledException) when (!cancel.IsCancellationRequested)
        {
            throw new TimeoutException($"{manifest} {pushed.Version}: {seen.Count} of {result.Hosts} hosts reported ok within the timeout");
        }
        if (!counted) return;
        var each = seen.Values.Select(x => Math.Max(0, (x.Time - pushed.Time).TotalMilliseconds)).ToArray();
        result.EachApplied.AddRange(each);
        result.AllApplied.Add(each.Max());
    }

    /// <summary>
    /// A file of <paramref name="mib"/> MiB to every host at once: until every host applied it; the bytes each peer served
    /// meanwhile (<c>mesh_content_served_bytes_total</c>) and the pushing peer's share; a cold
    /// <c>mesh status</c> against the pushing peer over and over while it spreads.
    /// </summary>
    private static async Task BodyAsync(BenchMesh mesh, NodeProcess[] peers, ReportFeed feed, AttachedResult result, string dir, int mib, CancellationToken cancel)
    {
        var before = await Task.WhenAll(peers.Select(Scale.ServedBytesAsync));
        var body = new StringBuilder();
        for (var i = 0; body.Length < mib * 1024 * 1024; i++) body.Append(i.ToString("0000000")).Append(new string('x', 92)).Append("\n      ");
        using var done = CancellationTokenSource.CreateLinkedTokenSource(cancel);
        var probe = Scale.ProbeStatusAsync(dir, ["--api", peers[0].Api, "status", BodyManifest], result.BodyStatusMs, done.Token);
        var spread = Stopwatch.StartNew();
        try
        {
            result.BodyMiB = mib;
            await PushAndCollectAsync(mesh, peers[0], feed, result, 0, counted: false, cancel, BodyManifest, body.ToString().TrimEnd());
            result.BodyMs = spread.Elapsed.TotalMilliseconds;
        }
        finally
        {
            await done.CancelAsync();
            await probe;
        }
        var served = (await Task.WhenAll(peers.Select(Scale.ServedBytesAsync))).Zip(before, (a, b) => a - b).ToArray();
        result.BodyServedMiB = served.Sum() / (1024.0 * 1024);
        result.BodyOriginShare = served.Sum() > 0 ? served[0] / served.Sum() : double.NaN;
    }

    private static int Count(string text, string what)
    {
        var count = 0;
        for (var at = text.IndexOf(what, StringComparison.Ordinal); at >= 0; at = text.IndexOf(what, at + what.Length, StringComparison.Ordinal)) count++;
        return count;
    }

    public static string Table(IReadOnlyList<AttachedResult> results)
    {
        var s = new StringBuilder();
        var measured = results.Where(r => double.IsFinite(r.AttachSeconds)).ToList();
        s.Append("| measure |");
        foreach (var r in measured) s.Append($" {r.Hosts} {(r.Simulated ? $"simulated ({r.Processes} processes)" : "hosts")} |");
        s.AppendLine();
        s.Append("|---|");
        foreach (var _ in measured) s.Append("---:|");
        s.AppendLine();
        void Row(string what, Func<AttachedResult, double> f, int decimals = 0)
        {
            s.Append($"| {what} |");
            foreach (var r in measured) s.Append($" {Stats.F(f(r), decimals)} |");
            s.AppendLine();
        }
        static double Median(IEnumerable<double> values) => values.Any() ? Stats.Median(values) : double.NaN;
        static double P(IEnumerable<double> values, double p) => values.Any() ? Stats.Percentile(values, p) : double.NaN;
        Row("every host attached (s, from the first host start)", r => r.AttachSeconds, 1);
        Row("first manifest applied on every host (s, after the push)", r => r.ConfiguredSeconds, 1);
        Row("push → applied on every host, p50 (ms)", r => P(r.AllApplied, 50));
        Row("push → applied on every host, p99 (ms)", r => P(r.AllApplied, 99));
        Row("push → applied on every host, max (ms)", r => r.AllApplied.DefaultIfEmpty(double.NaN).Max());
        Row("push → applied on one host, p50 over hosts and revisions (ms)", r => P(r.EachApplied, 50));
        Row("push round trip, median (ms)", r => Median(r.PushRoundTrip));
        Row("one more host: process start → configured (ms)", r => r.JoinConfiguredMs);
        Row("idle CPU per core peer, median (% of one core)", r => Median(r.PeerIdle.Select(i => i.CpuPercent)), 2);
        Row("RSS per core peer, median (MiB)", r => Median(r.PeerIdle.Select(i => i.RssMiB)), 1);
        Row("idle CPU per host, median (% of one core)", r => Median(r.HostIdle.Select(i => i.CpuPercent)), 3);
        Row("RSS per host, median (MiB)", r => Median(r.HostIdle.Select(i => i.RssMiB)), 1);
        Row($"{measured.FirstOrDefault()?.BodyMiB ?? 1} MiB body to every host: until all applied (ms)", r => r.BodyMs);
        Row("… content served by the peers (MiB)", r => r.BodyServedMiB, 1);
        Row("… of it served by the pushing peer (%)", r => 100 * r.BodyOriginShare, 1);
        Row("… `mesh status` against the pushing peer meanwhile, max (ms)", r => r.BodyStatusMs.DefaultIfEmpty(double.NaN).Max());
        Row("\"marked UNREACHABLE\" log lines, peers", r => r.UnreachableMarks);
        s.AppendLine();
        foreach (var r in results.Where(r => r.Stopped is not null))
            s.AppendLine($"- **{r.Hosts} {(r.Simulated ? "simulated" : "")} hosts: {r.Stopped}**");
        return s.ToString();
    }

    /// <summary>The <c>mesh-hostsim</c> processes of one fleet; disposing kills them.</summary>
    private sealed class SimulatorGroup : IAsyncDisposable
    {
        private readonly List<(Process Process, int Count, StringBuilder Output)> _processes = [];

        public IReadOnlyList<(Process Process, int Count, StringBuilder Output)> Processes => _processes;

        public void Start(string binary, int count, string prefix, IEnumerable<string> contacts, string dataDir)
        {
            var info = new ProcessStartInfo(binary) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            foreach (var arg in new[] { "--count", count.ToString(), "--prefix", prefix, "--role", "host", "--data-dir", dataDir }) info.ArgumentList.Add(arg);
            foreach (var contact in contacts)
            {
                info.ArgumentList.Add("--attach");
                info.ArgumentList.Add(contact);
            }
            var process = Process.Start(info) ?? throw new InvalidOperationException($"cannot start {binary}");
            var output = new StringBuilder();
            process.OutputDataReceived += (_, e) => { lock (output) output.AppendLine(e.Data); };
            process.ErrorDataReceived += (_, e) => { lock (output) output.AppendLine(e.Data); };
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            _processes.Add((process, count, output));
        }

        public double[] CpuSeconds() => _processes.Select(p => ProcFs.CpuSeconds(p.Process.Id)).ToArray();

        public async ValueTask DisposeAsync()
        {
            foreach (var (process, _, _) in _processes)
            {
                if (!process.HasExited) process.Kill(entireProcessTree: true);
                await process.WaitForExitAsync();
                process.Dispose();
            }
        }
    }
}
