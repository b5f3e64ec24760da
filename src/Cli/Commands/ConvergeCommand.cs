using System.CommandLine;

namespace Mesh.Cli.Commands;

/// <summary><c>mesh converge [NODE]</c>: re-check (and repair) what nodes enforce now instead of at their next interval.</summary>
public static class ConvergeCommand
{
    public static Command Create(CliRunner run)
    {
        var node = new Argument<string?>("node") { Description = "only this node (default: every node)", Arity = ArgumentArity.ZeroOrOne };
        node.CompletionSources.Add(NodeCompletions.NodeNames(run));
        var command = new Command("converge", "make nodes re-check their manifests now and repair drift") { node };
        command.SetAction((parse, cancel) => run.Invoke(parse, async ctx =>
        {
            var accepted = await ctx.Client.ConvergeAsync(parse.GetValue(node), cancel);
            if (ctx.Json) ctx.WriteJson(accepted);
            else
                foreach (var a in accepted)
                    ctx.Out.WriteLine($"{a.Node}: re-checking {a.Manifests} manifest(s); repairs show in 'mesh status' and 'mesh events'");
            return ExitCodes.Ok;
        }));
        return command;
    }
}
