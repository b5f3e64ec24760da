using Mesh.Protocol.Api;
using Mesh.Protocol.Wire;

namespace Mesh.Cli;

/// <summary>
/// Makes a change (a push, a rollback) and prints the revisions it made; when asked to wait,
/// follows it: prints each targeted node's report as it arrives, and is ok only when every
/// targeted node applied the new revision in time. A pending report (the node is still getting
/// the body) is printed once with its reason and waited past: only ok, failed or the end of
/// the wait ends a node's part. Past <see cref="FleetSummary.Threshold"/> targets it prints a
/// progress line and the failures instead of a line per node, and names the failed, pending
/// and silent nodes at the end. A change the node accepted without the quorum it was asked for
/// is said so, and exits <see cref="ExitCodes.NotReplicated"/> when nothing else failed.
/// </summary>
public static class ChangeFollower
{
    /// <param name="summary">true: follow with a summary (counts, a progress line, failures as they come);
    /// false: a line per report; null: a summary past <see cref="FleetSummary.Threshold"/> reports</param>
    public static async Task<int> MakeAsync(CliContext ctx, Func<CancellationToken, Task<PushResponse>> change, bool wait, TimeSpan waitFor, CancellationToken cancel,
        bool? summary = null)
    {
        if (wait) return await FollowAsync(ctx, change, waitFor, summary, cancel);
        var made = await change(cancel);
        if (ctx.Json) ctx.WriteJson(made);
        else foreach (var p in made.Revisions) ctx.Out.WriteLine(Describe(p, brief: FleetSummary.Wanted(p.Targets.Length, summary)));
        return AckFlag.NotReplicated(ctx, made) ? ExitCodes.NotReplicated : ExitCodes.Ok;
    }

    /// <summary>The exit code of a followed change: its own, or <see cref="ExitCodes.NotReplicated"/> when it succeeded without its quorum.</summary>
    private static int Finally(int followed, bool notReplicated) =>
        followed == ExitCodes.Ok && notReplicated ? ExitCodes.NotReplicated : followed;

    private static async Task<int> FollowAsync(CliContext ctx, Func<CancellationToken, Task<PushResponse>> change, TimeSpan waitFor, bool? summary,
        CancellationToken cancel)
    {
        // Subscribe before the change, so no report can slip by between the two.
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancel);
        var events = await ctx.Client.EventsAsync(stop.Token);
        var response = await change(cancel);
        var tracker = new ReportTracker(response);
        var brief = FleetSummary.Wanted(tracker.Expected, summary);
        // A rollout goes batch by batch and may halt: it is followed as such, not by waiting for every report.
        if (response.Revisions.Any(r => r.Rollout is not null))
        {
            await stop.CancelAsync();
            if (!ctx.Json) foreach (var p in response.Revisions) ctx.Out.WriteLine(Describe(p, brief));
            var notReplicatedRollout = AckFlag.NotReplicated(ctx, response);
            return Finally(await RolloutFollower.FollowAsync(ctx, response, waitFor, summary, cancel), notReplicatedRollout);
        }
        if (!ctx.Json) foreach (var p in response.Revisions) ctx.Out.WriteLine(Describe(p, brief));
        var notReplicated = AckFlag.NotReplicated(ctx, response);
        if (!ctx.Json) ctx.Out.WriteLine($"waiting for {tracker.Expected} report(s), up to {waitFor.TotalSeconds:0}s");
        var progress = ctx.Json || !brief ? null : new ProgressLine(ctx, tracker.Expected);

        void Take(ApplyReport report)
        {
            if (!tracker.Take(report) || ctx.Json) return;
            if (progress is null) ctx.Out.WriteLine("  " + Format.Report(report));
            else
            {
                // A failure is said as it comes (the first few); the rest of the fleet is counted.
                if (report.Outcome is ApplyOutcome.Failed or ApplyOutcome.Rejected && tracker.Failures <= FleetSummary.Listed)
                    progress.Say("  " + Format.Report(report));
                progress.Show(tracker.Done, tracker.States());
            }
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
        progress?.End(tracker.Done, tracker.States());

        var outcome = tracker.Outcome(response);
        if (ctx.Json) ctx.WriteJson(outcome);
        else if (brief)
        {
            var wait = $"{waitFor.TotalSeconds:0}s";
            foreach (var line in FleetSummary.Group("failed", outcome.Failed, "mesh status --failed, or --json"))
                ctx.Out.WriteLine(line);
            foreach (var line in FleetSummary.Group($"pending after {wait}", outcome.Pending, "mesh status --pending, or --json"))
                ctx.Out.WriteLine(line);
            if (tracker.Silent(withManifest: response.Revisions.Length > 1) is { Length: > 0 } silent)
                ctx.Out.WriteLine($"silent ({silent.Length}, no report within {wait}): {FleetSummary.Names(silent)}");
            ctx.Out.WriteLine(Verdict(tracker, outcome));
        }
        else
        {
            foreach (var f in outcome.Failed) ctx.Out.WriteLine($"failed: {f}");
            foreach (var p in outcome.Pending) ctx.Out.WriteLine($"pending: {p} (still pending after {waitFor.TotalSeconds:0}s)");
            foreach (var s in outcome.Silent) ctx.Out.WriteLine($"silent: {s} (no report within {waitFor.TotalSeconds:0}s)");
            ctx.Out.WriteLine(Verdict(tracker, outcome));
        }
        return Finally(outcome.Ok ? ExitCodes.Ok : ExitCodes.Failed, notReplicated);
    }

    private static string Verdict(ReportTracker tracker, ChangeOutcome outcome) => outcome.Ok
        ? $"all {tracker.Expected} report(s) ok"
        : $"{outcome.Failed.Length} failed, {outcome.Pending.Length} pending, {outcome.Silent.Length} silent, {outcome.Reports.Count(r => r.Succeeded)} ok";

    /// <summary>One line for a revision a change made (or found unchanged), and where it goes (<paramref name="brief"/>: the first few names).</summary>
    private static string Describe(PushedRevision p, bool brief)
    {
        var r = p.Revision;
        var nodes = p.Targets.Length == 0 ? "no node is targeted"
            : $"{p.Targets.Length} node(s): {(brief ? FleetSummary.Names(p.Targets) : string.Join(", ", p.Targets))}";
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

        /// <summary>Reports that end a node's part (ok, failed, rejected): a pending one does not.</summary>
        public int Done => _reports.Values.Count(r => r is not null && r.Outcome != ApplyOutcome.Pending);

        /// <summary>The nodes with no report yet, by name (and manifest, when the change made several revisions).</summary>
        public string[] Silent(bool withManifest) =>
            _reports.Where(kv => kv.Value is null).Select(kv => withManifest ? $"{kv.Key.Node} ({kv.Key.Manifest})" : kv.Key.Node).ToArray();

        public int Failures => _reports.Values.Count(r => r is { Outcome: ApplyOutcome.Failed or ApplyOutcome.Rejected });

        /// <summary>Each awaited report's state: ok, failed, rejected, pending, or waiting (none yet).</summary>
        public IEnumerable<string> States() => _reports.Values.Select(r => r switch
        {
            null => "waiting",
            { Outcome: ApplyOutcome.Ok } => StatusFilter.Ok,
            { Outcome: ApplyOutcome.Rejected } => StatusFilter.Rejected,
            { Outcome: ApplyOutcome.Pending } => StatusFilter.Pending,
            _ => StatusFilter.Failed,
        });

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
