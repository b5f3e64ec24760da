using System.CommandLine;
using Mesh.Protocol.Api;

namespace Mesh.Cli.Commands;

/// <summary>
/// <c>mesh rollout status [NAME]</c> and <c>mesh rollout pause|resume|abort NAME</c>: rollouts
/// as any node sees them, and the operator's word on one, accepted by any node.
/// </summary>
public static class RolloutCommand
{
    public static Command Create(CliRunner run)
    {
        var command = new Command("rollout", "show and control rollouts (batches, canaries, health gates)");
        var statusName = new Argument<string?>("name") { Description = "manifest name (default: every rollout)", Arity = ArgumentArity.ZeroOrOne };
        statusName.CompletionSources.Add(NodeCompletions.ManifestNames(run));
        var status = new Command("status", "a rollout's batches and each node's step (every rollout without NAME)") { statusName };
        status.SetAction((parse, cancel) => run.Invoke(parse, async ctx =>
        {
            var name = parse.GetValue(statusName);
            var rollouts = name is null ? await ctx.Client.RolloutsAsync(cancel) : [await ctx.Client.RolloutAsync(name, cancel)];
            if (ctx.Json && name is null) ctx.WriteJson(rollouts);
            else if (ctx.Json) ctx.WriteJson(rollouts[0]);
            else if (rollouts.Length == 0) ctx.Out.WriteLine("no rollouts");
            else
                foreach (var r in rollouts) Print(ctx, r, detailed: name is not null);
            return ExitCodes.Ok;
        }));
        command.Subcommands.Add(status);
        foreach (var (action, about) in new[]
                 {
                     ("pause", "no further node starts until resumed (nodes mid-step finish)"),
                     ("resume", "lift a pause, or open the manual gate the rollout waits at"),
                     ("abort", "no further node starts, ever (nodes that have the new revision keep it)"),
                 })
        {
            var name = new Argument<string>("name") { Description = "manifest name" };
            name.CompletionSources.Add(NodeCompletions.ManifestNames(run));
            var sub = new Command(action, about) { name };
            sub.SetAction((parse, cancel) => run.Invoke(parse, async ctx =>
            {
                var done = await ctx.Client.ControlRolloutAsync(parse.GetValue(name)!, action, ChangeRequests.Author, cancel);
                if (ctx.Json) ctx.WriteJson(done);
                else ctx.Out.WriteLine($"{action}: {done.Manifest} {done.Version} is now {done.Status.Phase} (batch {done.Status.Batch} of {done.Status.BatchCount})");
                return ExitCodes.Ok;
            }));
            command.Subcommands.Add(sub);
        }
        return command;
    }

    private static void Print(CliContext ctx, RolloutStatus r, bool detailed)
    {
        var nodes = r.Batches.SelectMany(b => b.Nodes).ToArray();
        ctx.Out.WriteLine($"{r.Manifest} {r.Version}: {r.Phase}, batch {r.Batch} of {r.BatchCount}, {nodes.Count(n => n.Step == "healthy")}/{nodes.Length} healthy, " +
                          $"{r.Failures} failed (allowed {r.AllowedFailures}); by {r.Author} via {r.Origin} at {r.Started:yyyy-MM-dd HH:mm:ss}" +
                          (r.Previous is null ? "" : $"; previous {r.Previous}"));
        if (!detailed) return;
        ctx.Out.WriteLine($"  policy: {r.Policy}");
        ctx.WriteTable(["batch", "node", "step", "since", "reason"], r.Batches.SelectMany(b => b.Nodes.Select(n => new[]
        {
            b.Number.ToString(), n.Node, n.Step + (n.RolledBack ? " (rolled back)" : ""), n.Time?.ToString("HH:mm:ss.fff") ?? "", n.Reason ?? "",
        })));
    }
}
