using System.CommandLine;
using System.Net;

namespace Mesh.Cli.Commands;

/// <summary><c>mesh rollback NAME --to R</c>: an old revision's content becomes the head again, as a new revision.</summary>
public static class RollbackCommand
{
    public static Command Create(CliRunner run)
    {
        var name = new Argument<string>("name") { Description = "manifest name" };
        var to = new Option<string>("--to") { Description = "the revision to return to: version, version prefix or hash prefix (see mesh history)", Required = true };
        var wait = new Option<bool>("--wait") { Description = "wait for every targeted node's report, as push --wait" };
        var timeout = new Option<string>("--timeout") { Description = "how long --wait waits (default 60s)", DefaultValueFactory = _ => "60s" };
        var command = new Command("rollback", "make an older revision's content current again (a new revision; history keeps both)") { name, to, wait, timeout };
        command.SetAction((parse, cancel) => run.Invoke(parse, async ctx =>
        {
            var author = $"{Environment.UserName}@{Dns.GetHostName()}";
            var waitFor = Durations.Parse(parse.GetValue(timeout)!, "--timeout");
            Task<Mesh.Protocol.Api.PushResponse> Rollback(CancellationToken token) =>
                ctx.Client.RollbackAsync(parse.GetValue(name)!, parse.GetValue(to)!, author, token);

            if (parse.GetValue(wait)) return await PushCommand.PushAndWait(ctx, Rollback, waitFor, cancel);
            var pushed = await Rollback(cancel);
            if (ctx.Json) ctx.WriteJson(pushed);
            else foreach (var p in pushed.Revisions) ctx.Out.WriteLine(PushCommand.Describe(p));
            return ExitCodes.Ok;
        }));
        return command;
    }
}
