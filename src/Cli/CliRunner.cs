using System.CommandLine;

namespace Mesh.Cli;

/// <summary>Runs one command body with its context, and turns failures into a message on stderr and an exit code.</summary>
public sealed class CliRunner(GlobalOptions globals, TextWriter output, TextWriter error)
{
    public GlobalOptions Globals => globals;

    public async Task<int> Invoke(ParseResult parse, Func<CliContext, Task<int>> body)
    {
        using var context = new CliContext(parse, globals, output, error);
        try
        {
            return await body(context);
        }
        catch (CliException e)
        {
            if (context.Json)
                context.WriteJson(new Mesh.Protocol.Api.ApiError(e.Message, e.Details?.ToArray()));
            error.WriteLine($"mesh: {e.Message}");
            foreach (var d in e.Details ?? []) error.WriteLine($"  {d}");
            return e.ExitCode;
        }
        catch (OperationCanceledException)
        {
            return ExitCodes.Failed;
        }
    }
}
