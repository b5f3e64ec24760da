using System.CommandLine;

namespace Mesh.Cli.Commands;

/// <summary><c>mesh tasks</c>: every task the mesh holds, newest first, with how many nodes are in each state.</summary>
public static class TasksCommand
{
    public static Command Create(CliRunner run)
    {
        var command = new Command("tasks", "list tasks with each node's state (queued, running, ok, failed, expired, ...)");
        command.SetAction((parse, cancel) => run.Invoke(parse, async ctx =>
        {
            var tasks = await ctx.Client.TasksAsync(cancel);
            if (ctx.Json) ctx.WriteJson(tasks);
            else
                ctx.WriteTable(["id", "posted", "by", "command", "target", "nodes"], tasks.Select(t => new[]
                {
                    t.Task.Id, Format.Age(t.Task.Created.Time), t.Task.Author, t.Task.Spec.Describe(),
                    t.Task.Spec.Target.Length == 0 ? "(every node)" : t.Task.Spec.Target,
                    (t.Task.Cancelled ? "cancelled; " : "") + Format.TaskStates(t.Nodes),
                }));
            return ExitCodes.Ok;
        }));
        return command;
    }
}
