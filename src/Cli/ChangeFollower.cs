using Mesh.Protocol.Api;
using Mesh.Protocol.Wire;

namespace Mesh.Cli;

/// <summary>
/// Makes a change (a push, a rollback) and prints the revisions it made; when asked to wait,
/// follows it: prints each targeted node's report as it arrives, and is ok only when every
/// targeted node applied the new revision in time. A pending report (the node is still getting
/// the body) is printed once with its reason and waited past: only ok, failed or the end of
/// the wait ends a node's part. A change the node accepted without the quorum it was asked for
/// is said so, and exits <see cref="ExitCodes.NotReplicated"/> when nothing else failed.
/// </summary>
public static class ChangeFollower
{
    public static async Task<int> MakeAsync(CliContext ctx, Func<CancellationToken, Task<PushResponse>> change, bool wait, TimeSpan waitFor, CancellationToken cancel)
    {
        if (wait) return await FollowAsync(ctx, change, waitFor, cancel);
        var made = await change(cancel);
        if (ctx.Json) ctx.WriteJson(made);
        else foreach (var p in made.Revisions) ctx.Out.WriteLine(Describe(p));
        return AckFlag.NotReplicated(ctx, made) ? ExitCodes.NotReplicated : ExitCodes.Ok;
    }

    /// <summary>The exit code of a followed change: its own, or <see cref="ExitCodes.NotReplicated"/> when it succeeded without its quorum.</summary>
    private static int Finally(int followed, bool notReplicated) =>
        followed == ExitCodes.Ok && notReplicated ? ExitCodes.NotReplicated : followed;

    private static async Task<int> FollowAsync(CliContext ctx, Func<CancellationToken, Task<PushResponse>> change, TimeSpan waitFor, CancellationToken cancel)
    {
        // Subscribe before the change, so no report can slip by between the two.
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancel);
        var events = await ctx.Client.EventsAsync(stop.Token);
        var response = await change(cancel);
        // A rollout goes batch by batch and may halt: it is followed as such, not by waiting for every report.
        if (response.Revisions.Any(r => r.Rollout is not null))
        {
            await stop.CancelAsync();
            if (!ctx.Json) foreach (var p in response.Revisions) ctx.Out.WriteLine(Describe(p));
            var notReplicatedRollout = AckFlag.NotReplicated(ctx, response);
            return Finally(await RolloutFollower.FollowAsync(ctx, response, waitFor, cancel), notReplicatedRollout);
        }
        var tracker = new ReportTracker(response);
        if (!ctx.Json) foreach (var p in response.Revisions) ctx.Out.WriteLine(Describe(p));
        var notReplicated = AckFlag.NotReplicated(ctx, response);
        if (!ctx.Json) ctx.Out.WriteLine($"waiting for {tracker.Expected} report(s), up to {waitFor.TotalSeconds:0}s");

        void Take(ApplyReport report)
        {
            if (tracker.Take(report) && !ctx.Json) ctx.Out.WriteLine("  " + Format.Report(report));
        }

        // Reports that arrived before the stream opened (an unchanged push) are in the status.
        foreach (var s in (await ctx.Client.StatusAsync(null, cancel)).Manifests)
            if (s.Report is { } r) Take(r);

        stop.CancelAfter(waitFor);
        try
        {
            await foreach (var e in events.WithCancellation(stop.Token))
            {
                if (e.Report is { } r) Take(r);
                if (tracker.Complete) break;
            }
        }
        catch (OperationCanceledException) when (!cancel.IsCancellationRequested)
        {
            // Timed out: the silent nodes are named below.
        }

        var outcome = tracker.Outcome(response);
        if (ctx.Json) ctx.WriteJson(outcome);
        else
        {
            foreach (var f in outcome.Failed) ctx.Out.WriteLine($"failed: {f}");
            foreach (var p in outcome.Pending) ctx.Out.WriteLine($"pending: {p} (still pending after {waitFor.TotalSeconds:0}s)");
            foreach (var s in outcome.Silent) ctx.Out.WriteLine($"silent: {s} (no report within {waitFor.TotalSeconds:0}s)");
            ctx.Out.WriteLine(outcome.Ok
                ? $"all {tracker.Expected} report(s) ok"
                : $"{outcome.Failed.Length} failed, {outcome.Pending.Length} pending, {outcome.Silent.Length} silent, {outcome.Reports.Count(r => r.Succeeded)} ok");
        }
        return Finally(outcome.Ok ? ExitCodes.Ok : ExitCodes.Failed, notReplicated);
    }

    /// <summary>One line for a revision a change made (or found unchanged), and where it goes.</summary>
    private static string Describe(PushedRevision p)
    {
        var r = p.Revision;
        var nodes = p.Targets.Length == 0 ? "no node is targeted" : $"{p.Targets.Length} node(s): {string.Join(", ", p.Targets)}";
        return p.Unchanged
            ? $"{r.Manifest} unchanged at {r.Version} -> {nodes}"
            : $"pushed {r.Manifest} {r.Version} ({Format.ShortHash(r.Hash)}, {Format.Size(r.Size)}) -> {nodes}";
    }

    /// <summary>Which (node, manifest) pairs have answered for the revisions a change made.</summary>
    private sealed class ReportTracker(PushResponse response)
    {
        private readonly Dictionary<(string Node, string Manifest), ApplyReport?> _reports = response.Revisions
            .SelectMany(p => p.Targets.Select(n => ((n, p.Revision.Manifest), (ApplyReport?)null)))
            .ToDictionary(x => x.Item1, x => x.Item2);

        private readonly Dictionary<string, string> _versions = response.Revisions
            .ToDictionary(p => p.Revision.Manifest, p => p.Revision.Version.ToString());

        public int Expected => _reports.Count;
        public bool Complete => _reports.Values.All(r => r is not null && r.Outcome != ApplyOutcome.Pending);

        /// <summary>
        /// Records a report for a revision of the change; true when it is worth printing: the
        /// node's first report, or its final one after a pending one. False when it is not one
        /// we wait for, or a repeat (a pending report is kept, for its latest reason, but said once).
        /// </summary>
        public bool Take(ApplyReport report)
        {
            var key = (report.Node, report.Manifest);
            if (!_reports.TryGetValue(key, out var seen) || seen is { Outcome: not ApplyOutcome.Pending }) return false;
            if (_versions[report.Manifest] != report.Version.ToString()) return false;
            _reports[key] = report;
            return seen is null || report.Outcome != ApplyOutcome.Pending;
        }

        public ChangeOutcome Outcome(PushResponse made) => new(
            made.Revisions,
            _reports.Values.OfType<ApplyReport>().ToArray(),
            _reports.Where(kv => kv.Value is { Succeeded: false, Outcome: not ApplyOutcome.Pending }).Select(kv => $"{kv.Key.Node} ({kv.Key.Manifest}): {kv.Value!.Error}").ToArray(),
            _reports.Where(kv => kv.Value is null).Select(kv => $"{kv.Key.Node} ({kv.Key.Manifest})").ToArray(),
            _reports.Where(kv => kv.Value is { Outcome: ApplyOutcome.Pending }).Select(kv => $"{kv.Key.Node} ({kv.Key.Manifest}): {kv.Value!.Error}").ToArray());
    }

    /// <summary>What <c>--wait --json</c> prints. <see cref="Pending"/>: nodes still getting the body when the wait ended, with why.</summary>
    public sealed record ChangeOutcome(PushedRevision[] Revisions, ApplyReport[] Reports, string[] Failed, string[] Silent, string[] Pending)
    {
        public bool Ok => Failed.Length == 0 && Silent.Length == 0 && Pending.Length == 0;
    }
}
