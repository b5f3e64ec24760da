using System.Diagnostics;
using System.Text;
using Mesh.EndToEnd.Tests;
using static Mesh.Bench.Progress;

namespace Mesh.Bench;

/// <summary>One new node's way from process start to self-configured.</summary>
public sealed record JoinSample(string Node, string Seed, double UpMs, double FilesMs, double FirstOkMs, double LastOkMs, double LeaveMs, string? Problem = null);

public sealed class JoinResult
{
    public List<JoinSample> Samples { get; } = [];
    public TimeSpan FormTime { get; set; }
    public IReadOnlyList<(string Line, int Count)> Warnings { get; set; } = [];
}

/// <summary>
/// Figure 2: node start → self-configured. A 3-node mesh holds the fleet manifests; a new node
/// seeded by one member is started, and the time from just before its process starts to its
/// last ok report (its own clock stamps the report) is taken. The node then leaves gracefully
/// and the next one (a new name) starts.
/// </summary>
public static class Join
{
    public const double TargetMs = 5000;

    public static async Task<JoinResult> RunAsync(string workDir, int joins, CancellationToken cancel)
    {
        Log("join: starting a 3-node mesh");
        await using var mesh = await BenchMesh.StartAsync(workDir, 3, null, cancel);
        var result = new JoinResult { FormTime = mesh.FormTime };
        await Fleet.PushAndWaitAsync(mesh, cancel);
        var members = mesh.Nodes.ToArray();
        Log($"join: mesh up in {mesh.FormTime.TotalSeconds:0.0} s and holds {Fleet.Manifests.Length} manifests; {joins} joins follow");

        var joinerWarnings = new List<(string Line, int Count)>();
        for (var k = 1; k <= joins; k++)
        {
            var name = $"joiner{k}";
            var seedNode = members[(k - 1) % members.Length];
            var sample = await JoinOnceAsync(mesh, members, name, seedNode, joinerWarnings, cancel);
            result.Samples.Add(sample);
            Log(sample.Problem is null
                ? $"join: {name} up {sample.UpMs:0} ms, files {sample.FilesMs:0} ms, last ok {sample.LastOkMs:0} ms, left in {sample.LeaveMs:0} ms"
                : $"join: {name}: {sample.Problem}");
        }
        result.Warnings = [.. BenchMesh.CollectWarnings(mesh.Nodes), .. joinerWarnings];
        return result;
    }

    private static readonly TimeSpan ConfigureTimeout = TimeSpan.FromSeconds(60);

    /// <summary>
    /// One joiner: start, wait until it applied every manifest, leave. A joiner that does not get
    /// there within <see cref="ConfigureTimeout"/> is recorded as such (with what it knew, on
    /// stderr), killed, and the run goes on once the mesh has removed it.
    /// </summary>
    private static async Task<JoinSample> JoinOnceAsync(BenchMesh mesh, NodeProcess[] members, string name, NodeProcess seedNode,
        List<(string Line, int Count)> warnings, CancellationToken cancel)
    {
        var clock = Stopwatch.StartNew();
        var started = DateTimeOffset.UtcNow;
        NodeProcess node;
        try
        {
            node = await mesh.StartNodeAsync(name, seedNode.ClusterAddress);
        }
        catch (Exception e) when (e is TimeoutException or InvalidOperationException)
        {
            Console.Error.WriteLine(e.Message);
            await WaitRemovedAsync(members[0], name, cancel);
            return new JoinSample(name, seedNode.Name, double.NaN, double.NaN, double.NaN, double.NaN, double.NaN, "did not come up within 30 s");
        }
        var upMs = clock.Elapsed.TotalMilliseconds;

        double filesMs = double.NaN;
        try
        {
            await BenchMesh.Until(async () =>
            {
                if (double.IsNaN(filesMs) && Fleet.FilesPresent(node)) filesMs = clock.Elapsed.TotalMilliseconds;
                return !double.IsNaN(filesMs) && await Fleet.AllOkAsync(node, name);
            }, $"{name} applied every manifest", ConfigureTimeout, cancel);
        }
        catch (TimeoutException e)
        {
            Console.Error.WriteLine($"{e.Message}\n{await DescribeAsync(node, members)}");
            warnings.AddRange(BenchMesh.CollectWarnings([node]));
            await mesh.RemoveAsync(node);
            await WaitRemovedAsync(members[0], name, cancel);
            return new JoinSample(name, seedNode.Name, upMs, filesMs, double.NaN, double.NaN, double.NaN,
                $"up after {upMs:0} ms but not configured within {ConfigureTimeout.TotalSeconds:0} s (killed)");
        }

        var own = (await node.StatusAsync()).Manifests.Where(s => s.Node == name && s.Report is not null).Select(s => s.Report!).ToArray();
        var firstOk = own.Min(r => (r.Time - started).TotalMilliseconds);
        var lastOk = own.Max(r => (r.Time - started).TotalMilliseconds);

        // Leave gracefully, so that the next joiner does not wait for the mesh to give up on this one.
        clock.Restart();
        await node.StopAsync();
        await WaitRemovedAsync(members[0], name, cancel);
        var leaveMs = clock.Elapsed.TotalMilliseconds;
        warnings.AddRange(BenchMesh.CollectWarnings([node]));
        await mesh.RemoveAsync(node);
        return new JoinSample(name, seedNode.Name, upMs, filesMs, firstOk, lastOk, leaveMs);
    }

    private static Task WaitRemovedAsync(NodeProcess via, string name, CancellationToken cancel) =>
        BenchMesh.RemovedAsync(via, name, TimeSpan.FromSeconds(90), cancel);

    /// <summary>What a joiner that did not configure itself knows: members, its status rows, its log.</summary>
    private static async Task<string> DescribeAsync(NodeProcess node, IEnumerable<NodeProcess> members)
    {
        var s = new StringBuilder();
        foreach (var via in members.Prepend(node))
        {
            try
            {
                var m = await via.MembersAsync();
                s.AppendLine($"{via.Name} sees: {string.Join(", ", m.Select(x => $"{x.Name}={x.Status}{(x.Reachable ? "" : "(unreachable)")}"))}");
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                s.AppendLine($"{via.Name}: {e.Message}");
            }
        }
        try
        {
            foreach (var st in (await node.StatusAsync()).Manifests)
                s.AppendLine($"status on {node.Name}: {st.Node} {st.Manifest} {st.State} {st.Report?.Error}");
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            s.AppendLine($"status: {e.Message}");
        }
        s.AppendLine($"files present: {string.Join(", ", Fleet.Files.Where(f => File.Exists(node.RootPath(f))))}");
        s.AppendLine("--- log of " + node.Name);
        s.AppendLine(node.Log);
        return s.ToString();
    }

    public static string Table(JoinResult r)
    {
        var s = new StringBuilder();
        s.AppendLine("| joiner | seeded by | process start → up (ms) | → managed files present (ms) | → first ok report (ms) | → last ok report (ms) | graceful leave → removed (ms) | problem |");
        s.AppendLine("|---|---|---:|---:|---:|---:|---:|---|");
        foreach (var j in r.Samples)
            s.AppendLine($"| {j.Node} | {j.Seed} | {Stats.F(j.UpMs)} | {Stats.F(j.FilesMs)} | {Stats.F(j.FirstOkMs)} | {Stats.F(j.LastOkMs)} | {Stats.F(j.LeaveMs)} | {j.Problem ?? ""} |");
        s.AppendLine();
        s.AppendLine("| measure | median (ms) | min (ms) | max (ms) | median / target (≤ 5000 ms) |");
        s.AppendLine("|---|---:|---:|---:|---:|");
        void Row(string what, Func<JoinSample, double> f, bool target = false)
        {
            var v = r.Samples.Where(j => j.Problem is null).Select(f).ToArray();
            if (v.Length == 0)
            {
                s.AppendLine($"| {what} | – | – | – | |");
                return;
            }
            s.AppendLine($"| {what} | {Stats.F(Stats.Median(v))} | {Stats.F(v.Min())} | {Stats.F(v.Max())} | {(target ? Stats.Ratio(Stats.Median(v), TargetMs) : "")} |");
        }
        Row("process start → up", j => j.UpMs);
        Row("process start → managed files present", j => j.FilesMs, target: true);
        Row("process start → last ok report", j => j.LastOkMs, target: true);
        var failed = r.Samples.Count(j => j.Problem is not null);
        if (failed > 0) s.AppendLine().AppendLine($"{failed} of {r.Samples.Count} joiners did not configure themselves (see the problem column); the statistics cover the others.");
        return s.ToString();
    }
}
