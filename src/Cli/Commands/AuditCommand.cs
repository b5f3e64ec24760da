using System.CommandLine;
using System.Globalization;

namespace Mesh.Cli.Commands;

/// <summary><c>mesh audit [--node N] [--since T]</c>: the audit trails of the nodes, merged by time.</summary>
public static class AuditCommand
{
    public static Command Create(CliRunner run)
    {
        var node = new Option<string?>("--node") { Description = "only this node's trail (default: every node)", HelpName = "node" };
        node.CompletionSources.Add(NodeCompletions.NodeNames(run));
        var since = new Option<string?>("--since") { Description = "entries since a time: a duration ago (30m, 2h) or an ISO time (2026-11-27T06:00Z)" };
        var limit = new Option<int>("--limit") { Description = "at most this many entries, newest kept (default 1000)", DefaultValueFactory = _ => 1000 };
        var command = new Command("audit", "show what nodes received and applied: who, what, when, result") { node, since, limit };
        command.SetAction((parse, cancel) => run.Invoke(parse, async ctx =>
        {
            var from = parse.GetValue(since) is { } text ? Since(text) : (DateTimeOffset?)null;
            var entries = await ctx.Client.AuditAsync(parse.GetValue(node), from, parse.GetValue(limit), cancel);
            if (ctx.Json) ctx.WriteJson(entries);
            else
                ctx.WriteTable(["time", "node", "event", "manifest", "version", "who", "detail"], entries.Select(e => new[]
                {
                    e.Time.ToString("yyyy-MM-dd HH:mm:ss.fff"), e.Node, e.Kind, e.Manifest, e.Version, e.Who, e.Detail,
                }));
            return ExitCodes.Ok;
        }));
        return command;
    }

    private static DateTimeOffset Since(string text) =>
        DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var time)
            ? time
            : DateTimeOffset.UtcNow - Durations.Parse(text, "--since");
}
