using System.CommandLine;

namespace Mesh.Cli.Commands;

/// <summary>
/// <c>mesh completion bash|zsh|fish</c>: prints the shell's completion script. The scripts hold
/// no command names of their own: on every TAB they ask <c>mesh __complete</c>
/// (<see cref="CompleteCommand"/>), so they never fall behind the commands.
/// </summary>
public static class CompletionCommand
{
    public static Command Create(CliRunner run)
    {
        var shell = new Argument<string>("shell") { Description = "bash, zsh or fish" };
        shell.AcceptOnlyFromAmong("bash", "zsh", "fish");
        var command = new Command("completion",
            "print a shell completion script (commands, flags, and manifest and node names from the node); " +
            "e.g. mesh completion bash > /etc/bash_completion.d/mesh") { shell };
        command.SetAction((parse, cancel) => run.Invoke(parse, async ctx =>
        {
            // Embedded from src/Cli/Completions/ (see Mesh.Cli.csproj).
            await using var script = typeof(CompletionCommand).Assembly.GetManifestResourceStream($"completion.{parse.GetValue(shell)}")!;
            using var reader = new StreamReader(script);
            await ctx.Out.WriteAsync(await reader.ReadToEndAsync(cancel));
            return ExitCodes.Ok;
        }));
        return command;
    }
}
