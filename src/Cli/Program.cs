using System.CommandLine;
using Mesh.Cli;
using Mesh.Cli.Commands;

return await MeshCli.RunAsync(args, Console.Out, Console.Error);

namespace Mesh.Cli
{
    /// <summary>The <c>mesh</c> command line: one command per file under Commands/, all speaking the control API.</summary>
    public static class MeshCli
    {
        public static async Task<int> RunAsync(string[] args, TextWriter output, TextWriter error)
        {
            var globals = new GlobalOptions();
            var run = new CliRunner(globals, output, error);
            var root = new RootCommand("mesh: drive a Mesh configuration cluster through any of its nodes")
            {
                MembersCommand.Create(run),
                FactsCommand.Create(run),
                PushCommand.Create(run),
                ListCommand.Create(run),
                GetCommand.Create(run),
                StatusCommand.Create(run),
                EventsCommand.Create(run),
                ConvergeCommand.Create(run),
                DiffCommand.Create(run),
                HistoryCommand.Create(run),
                RollbackCommand.Create(run),
                RolloutCommand.Create(run),
                AuditCommand.Create(run),
                DeleteCommand.Create(run),
                RunCommand.Create(run),
                TasksCommand.Create(run),
                TaskCommand.Create(run),
                KeygenCommand.Create(run),
                CertsCommand.Create(run),
                CompletionCommand.Create(run),
                CompleteCommand.Create(run),
            };
            root.Options.Add(globals.Api);
            root.Options.Add(globals.Json);
            root.Options.Add(globals.TokenFile);
            root.Options.Add(globals.Key);
            var parse = root.Parse(args);
            if (parse.Errors.Count > 0)
            {
                foreach (var e in parse.Errors) error.WriteLine($"mesh: {e.Message}");
                error.WriteLine("mesh: see 'mesh --help'");
                return ExitCodes.Invalid;
            }
            return await parse.InvokeAsync(new InvocationConfiguration { Output = output, Error = error });
        }
    }
}
