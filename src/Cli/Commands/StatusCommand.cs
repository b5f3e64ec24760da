using System.CommandLine;
using Mesh.Protocol.Api;
using Mesh.Protocol.Wire;

namespace Mesh.Cli.Commands;

/// <summary><c>mesh status [NAME] [--watch]</c>: where each targeted node stands with each manifest's head revision.</summary>
public static class StatusCommand
{
    public static Command Create(CliRunner run)
    {
        var name = new Argument<string?>("name") { Description = "only this manifest", Arity = ArgumentArity.ZeroOrOne };
        name.CompletionSources.Add(NodeCompletions.ManifestNames(run));
        var watch = new Option<bool>("--watch") { Description = "print the table again whenever a report arrives" };
        var command = new Command("status", "show, per node and manifest, whether the current revision is applied") { name, watch };
        command.SetAction((parse, cancel) => run.Invoke(parse, async ctx =>
        {
            var manifest = parse.GetValue(name);
            if (manifest is not null && (await ctx.Client.ManifestsAsync(cancel)).All(m => m.Revision.Manifest != manifest))
                throw new CliException(ExitCodes.NotFound, $"no manifest named '{manifest}' (see mesh list)");
            if (!parse.GetValue(watch)) return Print(ctx, await ctx.Client.StatusAsync(manifest, cancel));

            var events = await ctx.Client.EventsAsync(cancel);
            Print(ctx, await ctx.Client.StatusAsync(manifest, cancel));
            await foreach (var e in events.WithCancellation(cancel))
            {
                if (e.Kind is not ("report" or "revision" or "member")) continue;
                ctx.Out.WriteLine();
                Print(ctx, await ctx.Client.StatusAsync(manifest, cancel));
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
    private static int Print(CliContext ctx, StatusReport report)
    {
        var status = report.Manifests;
        if (ctx.Json) ctx.WriteJson(report);
        else
        {
            if (status.Length == 0) ctx.Out.WriteLine("no manifests target any node");
            else
                ctx.WriteTable(["node", "manifest", "state", "version", "changed", "applied", "detail"], status.Select(s => new[]
                {
                    s.Node, s.Manifest, s.State, s.Head.Version.ToString(),
                    s.Report is { } r && s.State != "pending" ? r.Changed.ToString() : "",
                    s.Report is { } t ? Format.Age(t.Time) : "",
                    s.State switch
                    {
                        "failed" => s.Report?.Error ?? "",
                        "ok" when s.Report is { Drift: true } => "drift repaired",
                        "pending" when s.Report is { Outcome: ApplyOutcome.Pending } p && p.Version.Equals(s.Head.Version) => p.Error ?? "",
                        "pending" when s.Report is { } old => $"last applied {old.Version}",
                        _ => "",
                    },
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
}
