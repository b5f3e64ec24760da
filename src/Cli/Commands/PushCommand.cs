using System.CommandLine;
using Mesh.Protocol.Api;
using Mesh.Protocol.Manifests;
using Mesh.Protocol.Wire;

namespace Mesh.Cli.Commands;

/// <summary>
/// <c>mesh push FILE... [--wait]</c>: sends manifests to one node, which validates them and
/// spreads them. With <c>--wait</c>, prints each targeted node's report as it arrives and
/// succeeds only when every one of them applied the new revision.
/// </summary>
public static class PushCommand
{
    public static Command Create(CliRunner run)
    {
        var files = new Argument<FileInfo[]>("file") { Description = "manifest files (YAML)", Arity = ArgumentArity.OneOrMore };
        var message = new Option<string?>("--message", "-m") { Description = "why this change (kept with the revision)" };
        var wait = new Option<bool>("--wait") { Description = "wait for every targeted node's report; fail if one fails or stays silent" };
        var timeout = new Option<string>("--timeout") { Description = "how long --wait (or --dry-run) waits, e.g. 30s, 2m (default 60s)", DefaultValueFactory = _ => "60s" };
        var dryRun = new Option<bool>("--dry-run") { Description = "push nothing: show what every targeted node would change (as mesh diff)" };
        var force = new Option<bool>("--force") { Description = "push even if the manifest changed since you last looked (the other revision stays in history)" };
        var parent = new Option<string?>("--parent") { Description = "the version your edit is based on (from mesh get/list); refused if the head moved on since" };
        var command = new Command("push", "push manifests to the mesh") { files, message, wait, timeout, dryRun, force, parent };
        command.SetAction((parse, cancel) => run.Invoke(parse, async ctx =>
        {
            var waitFor = Durations.Parse(parse.GetValue(timeout)!, "--timeout");
            var request = ManifestSealing.Seal(ctx, DiffCommand.Request(parse.GetValue(files)!, parse.GetValue(message)), cancel);
            if (parse.GetValue(dryRun)) return PlanOutput.Print(ctx, await ctx.Client.PlanAsync(request, waitFor, cancel));
            request = parse.GetValue(force) ? request with { Force = true } : request with { Parents = await SeenHeads(ctx, request, parse.GetValue(parent), cancel) };
            if (ctx.SigningKey is { } key) request = Mesh.Protocol.Signing.PushSignatures.Sign(request, key);
            else if (!ctx.Json) ctx.Error.WriteLine($"mesh: pushing unsigned (no signing key: see mesh keygen); nodes with a trust list will refuse it");

            if (!parse.GetValue(wait))
            {
                var pushed = await ctx.Client.PushAsync(request, cancel);
                if (ctx.Json) ctx.WriteJson(pushed);
                else foreach (var p in pushed.Revisions) ctx.Out.WriteLine(Describe(p));
                return ExitCodes.Ok;
            }

            return await PushAndWait(ctx, token => ctx.Client.PushAsync(request, token), waitFor, cancel);
        }));
        return command;
    }

    /// <summary>
    /// The version each pushed manifest builds on: the one given with --parent, else the head
    /// the node shows now (which still catches a push that raced this one).
    /// </summary>
    private static async Task<Dictionary<string, string>> SeenHeads(CliContext ctx, PushRequest request, string? parent, CancellationToken cancel)
    {
        if (parent is not null && request.Manifests.Length != 1)
            throw new CliException(ExitCodes.Invalid, "--parent names the base of one manifest: push one file with it");
        var heads = (await ctx.Client.ManifestsAsync(cancel)).ToDictionary(m => m.Revision.Manifest, m => m.Revision.Version.ToString());
        var parents = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var file in request.Manifests)
        {
            // A file that does not parse is reported by the node, with all its errors.
            try
            {
                var name = ManifestParser.Parse(file.Text, file.File, _ => new string('0', 64)).Name;
                parents[name] = parent ?? heads.GetValueOrDefault(name, "");
            }
            catch (ManifestException)
            {
            }
        }
        return parents;
    }

    /// <summary>
    /// Makes a change (push, rollback) and follows it: prints each targeted node's report as it
    /// arrives; ok only when every targeted node applied the new revision in time.
    /// </summary>
    public static async Task<int> PushAndWait(CliContext ctx, Func<CancellationToken, Task<PushResponse>> change, TimeSpan waitFor, CancellationToken cancel)
    {
        // Subscribe before the change, so no report can slip by between the two.
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancel);
        var events = await ctx.Client.EventsAsync(stop.Token);
        var response = await change(cancel);
        var tracker = new ReportTracker(response);
        if (!ctx.Json)
        {
            foreach (var p in response.Revisions) ctx.Out.WriteLine(Describe(p));
            ctx.Out.WriteLine($"waiting for {tracker.Expected} report(s), up to {waitFor.TotalSeconds:0}s");
        }

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
            foreach (var s in outcome.Silent) ctx.Out.WriteLine($"silent: {s} (no report within {waitFor.TotalSeconds:0}s)");
            ctx.Out.WriteLine(outcome.Ok
                ? $"all {tracker.Expected} report(s) ok"
                : $"{outcome.Failed.Length} failed, {outcome.Silent.Length} silent, {outcome.Reports.Count(r => r.Succeeded)} ok");
        }
        return outcome.Ok ? ExitCodes.Ok : ExitCodes.Failed;
    }

    public static string Describe(PushedRevision p)
    {
        var r = p.Revision;
        var nodes = p.Targets.Length == 0 ? "no node is targeted" : $"{p.Targets.Length} node(s): {string.Join(", ", p.Targets)}";
        return p.Unchanged
            ? $"{r.Manifest} unchanged at {r.Version} -> {nodes}"
            : $"pushed {r.Manifest} {r.Version} ({Format.ShortHash(r.Hash)}, {Format.Size(r.Size)}) -> {nodes}";
    }

    /// <summary>Which (node, manifest) pairs have answered for the pushed revisions.</summary>
    private sealed class ReportTracker(PushResponse response)
    {
        private readonly Dictionary<(string Node, string Manifest), ApplyReport?> _reports = response.Revisions
            .SelectMany(p => p.Targets.Select(n => ((n, p.Revision.Manifest), (ApplyReport?)null)))
            .ToDictionary(x => x.Item1, x => x.Item2);

        private readonly Dictionary<string, string> _versions = response.Revisions
            .ToDictionary(p => p.Revision.Manifest, p => p.Revision.Version.ToString());

        public int Expected => _reports.Count;
        public bool Complete => _reports.Values.All(r => r is not null);

        /// <summary>Records a report for a pushed revision; false when it is not one we wait for, or a repeat.</summary>
        public bool Take(ApplyReport report)
        {
            var key = (report.Node, report.Manifest);
            if (!_reports.TryGetValue(key, out var seen) || seen is not null) return false;
            if (_versions[report.Manifest] != report.Version.ToString()) return false;
            _reports[key] = report;
            return true;
        }

        public PushOutcome Outcome(PushResponse pushed) => new(
            pushed.Revisions,
            _reports.Values.OfType<ApplyReport>().ToArray(),
            _reports.Where(kv => kv.Value is { Succeeded: false }).Select(kv => $"{kv.Key.Node} ({kv.Key.Manifest}): {kv.Value!.Error}").ToArray(),
            _reports.Where(kv => kv.Value is null).Select(kv => $"{kv.Key.Node} ({kv.Key.Manifest})").ToArray());
    }

    public sealed record PushOutcome(PushedRevision[] Revisions, ApplyReport[] Reports, string[] Failed, string[] Silent)
    {
        public bool Ok => Failed.Length == 0 && Silent.Length == 0;
    }
}
