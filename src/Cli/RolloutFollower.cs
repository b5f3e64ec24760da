using Mesh.Protocol.Api;

namespace Mesh.Cli;

/// <summary>
/// <c>push --wait</c> for a rollout: follows it live through the node (its status every
/// 200 ms): the batch under way, a progress bar, each node's step as it changes, the reason of
/// every failure. Ok only when every rollout completed; halted, aborted or still running at the
/// deadline is a failure that names the failed nodes and why.
/// </summary>
public static class RolloutFollower
{
    private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(200);

    /// <param name="summary">true: batches with their first few names, and only failed nodes' steps; null: so past
    /// <see cref="FleetSummary.Threshold"/> nodes</param>
    public static async Task<int> FollowAsync(CliContext ctx, PushResponse response, TimeSpan waitFor, bool? summary, CancellationToken cancel)
    {
        var rollouts = response.Revisions.Where(r => r.Rollout is not null).Select(r => r.Rollout!).ToArray();
        var brief = FleetSummary.Wanted(rollouts.Sum(r => r.Batches.Sum(b => b.Nodes.Length)), summary);
        var seen = new Dictionary<string, string>(StringComparer.Ordinal);
        var batches = new Dictionary<string, int>(StringComparer.Ordinal);
        var deadline = DateTimeOffset.UtcNow + waitFor;
        var last = rollouts.ToDictionary(r => r.Manifest, r => r, StringComparer.Ordinal);
        if (!ctx.Json)
            foreach (var r in rollouts)
                ctx.Out.WriteLine($"rollout {r.Manifest} {r.Version}: {r.Batches.Sum(b => b.Nodes.Length)} node(s) in {r.BatchCount} batch(es); {r.Policy}");

        while (true)
        {
            foreach (var name in last.Keys.ToArray())
            {
                if (last[name].Over) continue;
                RolloutStatus status;
                try
                {
                    status = await ctx.Client.RolloutAsync(name, cancel);
                }
                catch (CliException e) when (e.ExitCode == ExitCodes.NotFound)
                {
                    continue; // the node's replica has not got the record yet (never the case through the pushing node)
                }
                // A newer push of the manifest replaced this rollout (push --force): it is over for us.
                if (status.Version != last[name].Version) status = last[name] with { Phase = "aborted" };
                last[name] = status;
                if (!ctx.Json) Print(ctx, status, seen, batches, brief);
            }
            if (last.Values.All(r => r.Over) || DateTimeOffset.UtcNow >= deadline) break;
            await Task.Delay(Poll, cancel);
        }

        var ok = last.Values.All(r => r.Phase == "completed");
        if (ctx.Json) ctx.WriteJson(last.Values.ToArray());
        else
            foreach (var r in last.Values)
            {
                var failed = r.Batches.SelectMany(b => b.Nodes).Where(n => n.Step == "failed").ToArray();
                if (brief)
                    foreach (var line in FleetSummary.Group("failed", failed.Select(n => $"{n.Node}: {n.Reason}").ToArray(), $"mesh rollout status {r.Manifest}"))
                        ctx.Out.WriteLine(line);
                else
                    foreach (var n in failed) ctx.Out.WriteLine($"failed: {n.Node}: {n.Reason}");
                if (r.Skipped.Length > 0) ctx.Out.WriteLine($"skipped (silent for node_timeout): {(brief ? FleetSummary.Names(r.Skipped) : string.Join(", ", r.Skipped))}");
                ctx.Out.WriteLine(r.Phase switch
                {
                    "completed" => $"rollout {r.Manifest} {r.Version} completed: {Healthy(r)} healthy" + (failed.Length > 0 ? $", {failed.Length} failed (allowed {r.AllowedFailures})" : ""),
                    "halted" => $"rollout {r.Manifest} {r.Version} halted at batch {r.Batch} of {r.BatchCount}: {failed.Length} failed (allowed {r.AllowedFailures}): " +
                                FleetSummary.Names(failed.Select(f => f.Node).ToArray()),
                    "aborted" => $"rollout {r.Manifest} {r.Version} aborted at batch {r.Batch} of {r.BatchCount}",
                    _ => $"rollout {r.Manifest} {r.Version} still {r.Phase} at batch {r.Batch} of {r.BatchCount} after {waitFor.TotalSeconds:0}s (see mesh rollout status {r.Manifest})",
                });
            }
        return ok ? ExitCodes.Ok : ExitCodes.Failed;
    }

    private static int Healthy(RolloutStatus r) => r.Batches.SelectMany(b => b.Nodes).Count(n => n.Step == "healthy");

    /// <param name="brief">a batch's first few names, and of the nodes' steps only failures</param>
    private static void Print(CliContext ctx, RolloutStatus status, Dictionary<string, string> seen, Dictionary<string, int> batches, bool brief)
    {
        // Every batch the rollout went through since the last look, each once and in order, however quick.
        for (var number = batches.GetValueOrDefault(status.Manifest) + 1; number <= status.Batch; number++)
        {
            batches[status.Manifest] = number;
            var total = status.Batches.Sum(b => b.Nodes.Length);
            var before = status.Batches.Where(b => b.Number < number).Sum(b => b.Nodes.Count(n => n.Step == "healthy"));
            var nodes = status.Batches.FirstOrDefault(b => b.Number == number)?.Nodes.Select(n => n.Node).ToArray() ?? [];
            ctx.Out.WriteLine($"{FleetSummary.Bar(before, total)} batch {number}/{status.BatchCount}: " +
                (brief ? FleetSummary.Names(nodes) : string.Join(", ", nodes)));
        }
        foreach (var node in status.Batches.SelectMany(b => b.Nodes))
        {
            var key = $"{status.Manifest}/{node.Node}";
            var now = node.Step + node.Reason;
            if (node.Step == "waiting" || (brief && node.Step != "failed") || seen.GetValueOrDefault(key) == now) continue;
            seen[key] = now;
            ctx.Out.WriteLine($"  {node.Node}: {node.Step}" + (node.Reason is null ? "" : $": {node.Reason}"));
        }
        var phaseKey = $"{status.Manifest}#phase";
        if (seen.GetValueOrDefault(phaseKey) != status.Phase && status.Phase is "paused" or "waiting-for-resume")
            ctx.Out.WriteLine($"  {status.Phase} (mesh rollout resume {status.Manifest})");
        seen[phaseKey] = status.Phase;
    }
}
