using System.CommandLine;
using Mesh.Protocol.Api;
using Mesh.Protocol.Wire;

namespace Mesh.Cli.Commands;

/// <summary>
/// <c>mesh status [NAME] [--watch] [--failed] [--pending] [--node GLOB]</c>: where each targeted
/// node stands with each manifest's head revision; over a large fleet (or with
/// <c>--summary</c>) counts per manifest and only the nodes that need a look, by name.
/// </summary>
public static class StatusCommand
{
    public static Command Create(CliRunner run)
    {
        var name = new Argument<string?>("name") { Description = "only this manifest", Arity = ArgumentArity.ZeroOrOne };
        name.CompletionSources.Add(NodeCompletions.ManifestNames(run));
        var watch = new Option<bool>("--watch") { Description = "print the table again whenever a report arrives" };
        var failed = new Option<bool>("--failed") { Description = "only the nodes that failed (or rejected) a manifest's head" };
        var pending = new Option<bool>("--pending") { Description = "only the nodes that have not applied a manifest's head yet" };
        var node = new Option<string?>("--node") { Description = "only the nodes whose name matches this glob (* and ?, e.g. 'web-*')" };
        node.CompletionSources.Add(NodeCompletions.NodeNames(run));
        var view = new SummaryFlags("rows");
        var command = new Command("status", "show, per node and manifest, whether the current revision is applied")
        {
            name, watch, failed, pending, node, view.Summary, view.Table,
        };
        command.SetAction((parse, cancel) => run.Invoke(parse, async ctx =>
        {
            var manifest = parse.GetValue(name);
            var forced = view.Read(parse);
            string[]? states = parse.GetValue(failed) || parse.GetValue(pending)
                ? [.. parse.GetValue(failed) ? StatusFilter.Failures : [], .. parse.GetValue(pending) ? [StatusFilter.Pending] : Array.Empty<string>()]
                : null;
            var glob = parse.GetValue(node);
            var among = glob is null ? "" : $" among the nodes matching '{glob}'";
            var none = (parse.GetValue(failed), parse.GetValue(pending)) switch
            {
                (true, true) => "no node has failed or is pending" + among,
                (true, false) => "no node has failed" + among,
                (false, true) => "no node is pending" + among,
                _ => glob is null ? "no manifests target any node" : $"no targeted node matches '{glob}'",
            };
            if (manifest is not null && (await ctx.Client.ManifestsAsync(cancel)).All(m => m.Revision.Manifest != manifest))
                throw new CliException(ExitCodes.NotFound, $"no manifest named '{manifest}' (see mesh list)");
            Task<StatusReport> Read() => ctx.Client.StatusAsync(manifest, cancel, glob, states);
            if (!parse.GetValue(watch)) return Print(ctx, await Read(), forced, none);

            var events = await ctx.Client.EventsAsync(cancel);
            Print(ctx, await Read(), forced, none);
            await foreach (var e in events.WithCancellation(cancel))
            {
                if (e.Kind is not ("report" or "revision" or "member")) continue;
                ctx.Out.WriteLine();
                Print(ctx, await Read(), forced, none);
            }
            return ExitCodes.Ok;
        }));
        return command;
    }

    /// <summary>
    /// Prints the status: the table, then what qualifies it (this node offline, writes lost to
    /// concurrent pushes). The exit code says whether every node is ok as seen from a node that
    /// reaches its peers; an offline node's view of the others is stale, so it is not ok.
    /// </summary>
    /// <param name="none">what to say when there is no row (the filters, if any, matched none)</param>
    private static int Print(CliContext ctx, StatusReport report, bool? summary, string none)
    {
        var status = report.Manifests;
        if (ctx.Json) ctx.WriteJson(report);
        else
        {
            if (status.Length == 0) ctx.Out.WriteLine(none);
            else if (FleetSummary.Wanted(status.Length, summary)) PrintSummary(ctx, status);
            else
                ctx.WriteTable(["node", "manifest", "state", "version", "changed", "applied", "detail"], status.Select(s => new[]
                {
                    s.Node, s.Manifest, s.State, s.Head.Version.ToString(),
                    s.Report is { } r && s.State != "pending" ? r.Changed.ToString() : "",
                    s.Report is { } t ? Format.Age(t.Time) : "",
                    Detail(s),
                }));
            if (report.Offline)
                ctx.Out.WriteLine($"node {report.Node} is offline since {report.OfflineSince:u} ({(report.OfflineSince is { } since ? Format.Age(since) : "")}): " +
                    $"{report.OfflineReason}; enforcing its last known state (what it shows of other nodes may be out of date)");
            foreach (var seed in report.Seeds ?? [])
                ctx.Out.WriteLine($"  join through {seed.Address}: {seed.Answer}{(seed.Status is { } member ? $" ({member})" : "")} since {seed.Since:u}");
            foreach (var lost in report.LostWrites) ctx.Out.WriteLine(Format.LostWrite(lost));
            if (report.Unreplicated is { Length: > 0 } unreplicated)
                ctx.Out.WriteLine($"{unreplicated.Length} revision(s) accepted here while not replicated: " +
                    string.Join(", ", unreplicated.Select(u => $"{u.Manifest} {u.Version} (since {Format.Age(u.Since)}: {u.Reason})")) +
                    "; they spread when the members are reachable again");
            foreach (var skew in report.ClockSkews ?? []) ctx.Out.WriteLine($"clock: {skew.Describe()}");
        }
        return !report.Offline && status.All(s => s.State == "ok") && report.Unreplicated is not { Length: > 0 } ? ExitCodes.Ok : ExitCodes.Failed;
    }

    /// <summary>What qualifies a row's state: the error, the body still on its way, the revision last applied.</summary>
    private static string Detail(NodeStatus s) => s.State switch
    {
        StatusFilter.Failed or StatusFilter.Rejected => s.Report?.Error ?? "",
        StatusFilter.Ok when s.Report is { Drift: true } => "drift repaired",
        StatusFilter.Pending when s.Report is { Outcome: ApplyOutcome.Pending } p && p.Version.Equals(s.Head.Version) => p.Error ?? "",
        StatusFilter.Pending when s.Report is { } old => $"last applied {old.Version}",
        _ => "",
    };

    /// <summary>
    /// A manifest per line with its nodes counted by state and a bar of those applied, then the
    /// failed nodes with their errors and the pending ones, by name (at most
    /// <see cref="FleetSummary.Listed"/> each; the filters list them all).
    /// </summary>
    private static void PrintSummary(CliContext ctx, NodeStatus[] status)
    {
        var manifests = status.GroupBy(s => s.Manifest, StringComparer.Ordinal).ToArray();
        ctx.WriteTable(["manifest", "version", "nodes", "states", "applied"], manifests.Select(m => new[]
        {
            m.Key, m.First().Head.Version.ToString(), m.Count().ToString(), FleetSummary.Counts(m.Select(s => s.State)),
            FleetSummary.Bar(m.Count(s => s.State == StatusFilter.Ok), m.Count()),
        }));
        string Line(NodeStatus s) => $"{s.Node}  {s.Manifest}" + (Detail(s) is { Length: > 0 } detail ? $": {detail}" : "");
        foreach (var line in FleetSummary.Group("failed", status.Where(s => StatusFilter.Failures.Contains(s.State)).Select(Line).ToArray(), "mesh status --failed"))
            ctx.Out.WriteLine(line);
        foreach (var line in FleetSummary.Group("pending", status.Where(s => s.State == StatusFilter.Pending).Select(Line).ToArray(), "mesh status --pending"))
            ctx.Out.WriteLine(line);
    }
}
