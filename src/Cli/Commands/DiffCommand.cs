using System.CommandLine;

namespace Mesh.Cli.Commands;

/// <summary><c>mesh diff FILE...</c>: what every targeted node would change if these manifests were pushed.</summary>
public static class DiffCommand
{
    public static Command Create(CliRunner run)
    {
        var files = new Argument<FileInfo[]>("file") { Description = "manifest files (YAML)", Arity = ArgumentArity.OneOrMore };
        var timeout = new Option<string>("--timeout") { Description = "how long to wait for each node's plan (default 30s)", DefaultValueFactory = _ => "30s" };
        var command = new Command("diff", "dry run: show, per targeted node, what pushing these manifests would change; nothing changes") { files, timeout };
        command.SetAction((parse, cancel) => run.Invoke(parse, async ctx =>
            PlanOutput.Print(ctx, await ctx.Client.PlanAsync(await ChangeRequests.ReadAsync(ctx, parse.GetValue(files)!, null, cancel),
                Durations.Parse(parse.GetValue(timeout)!, "--timeout"), cancel))));
        return command;
    }
}
