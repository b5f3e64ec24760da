using System.CommandLine;

namespace Mesh.Cli.Commands;

/// <summary><c>mesh rollback NAME --to R</c>: an old revision's content becomes the head again, as a new revision.</summary>
public static class RollbackCommand
{
    public static Command Create(CliRunner run)
    {
        var name = new Argument<string>("name") { Description = "manifest name" };
        name.CompletionSources.Add(NodeCompletions.ManifestNames(run));
        var to = new Option<string>("--to") { Description = "the revision to return to: version, version prefix or hash prefix (see mesh history)", Required = true };
        var wait = new Option<bool>("--wait") { Description = "wait for every targeted node's report, as push --wait" };
        var timeout = new Option<string>("--timeout") { Description = "how long --wait waits (default 60s)", DefaultValueFactory = _ => "60s" };
        var ack = AckFlag.Create();
        var view = new SummaryFlags("targeted nodes");
        var command = new Command("rollback", "make an older revision's content current again (a new revision; history keeps both)")
        {
            name, to, wait, timeout, ack, view.Summary, view.Table,
        };
        command.SetAction((parse, cancel) => run.Invoke(parse, ctx =>
        {
            var level = AckFlag.Parse(parse.GetValue(ack)!);
            var summary = view.Read(parse);
            return ChangeFollower.MakeAsync(ctx, token => ctx.Client.RollbackAsync(parse.GetValue(name)!, parse.GetValue(to)!, ChangeRequests.Author, level, token),
                parse.GetValue(wait), Durations.Parse(parse.GetValue(timeout)!, "--timeout"), cancel, summary);
        }));
        return command;
    }
}
