using System.CommandLine;
using Mesh.Protocol.Tasks;

namespace Mesh.Cli.Commands;

/// <summary>
/// <c>mesh task get ID [--node N]</c>: one task, every node's result and the start of its
/// output; with <c>--node</c>, all the output that node kept. <c>mesh task cancel ID</c>: nodes
/// that have not started it never will; a node running it kills it.
/// </summary>
public static class TaskCommand
{
    public static Command Create(CliRunner run)
    {
        var command = new Command("task", "show or cancel one task");
        command.Subcommands.Add(Get(run));
        command.Subcommands.Add(Cancel(run));
        return command;
    }

    private static Command Get(CliRunner run)
    {
        var id = new Argument<string>("id") { Description = "the task's id (from mesh run or mesh tasks)" };
        var node = new Option<string?>("--node") { Description = "all the output this node kept of the task", HelpName = "node" };
        node.CompletionSources.Add(NodeCompletions.NodeNames(run));
        var command = new Command("get", "show a task: every node's state, exit code, duration and output") { id, node };
        command.SetAction((parse, cancel) => run.Invoke(parse, async ctx =>
        {
            if (parse.GetValue(node) is { } name)
            {
                var output = await ctx.Client.TaskOutputAsync(parse.GetValue(id)!, name, cancel);
                if (ctx.Json) ctx.WriteJson(output);
                else if (!output.Found)
                {
                    if (output.Result is { } r) ctx.Out.WriteLine(Format.TaskResult(r));
                    ctx.Error.WriteLine($"mesh: {name} keeps no output of task {output.TaskId} (it did not run it there, or removed it since)");
                    return ExitCodes.NotFound;
                }
                else
                {
                    if (output.Result is { } r) ctx.Out.WriteLine(Format.TaskResult(r));
                    ctx.Out.Write(output.Stdout);
                    ctx.Error.Write(output.Stderr);
                }
                return ExitCodes.Ok;
            }
            var view = await ctx.Client.TaskAsync(parse.GetValue(id)!, cancel);
            if (ctx.Json)
            {
                ctx.WriteJson(view);
                return ExitCodes.Ok;
            }
            var spec = view.Task.Spec;
            ctx.Out.WriteLine($"task {view.Task.Id}: {spec.Describe()}");
            ctx.Out.WriteLine($"  target {(spec.Target.Length == 0 ? "(every node)" : spec.Target)}, posted {view.Task.Created.Time:u} by {view.Task.Author} via {view.Task.Origin}" +
                $"{(view.Task.Signature is { } s ? $", signed by key {s.KeyId}" : ", unsigned")}");
            ctx.Out.WriteLine($"  timeout {spec.Timeout}, expires {spec.Expires:u}{(spec.Batch > 0 ? $", batches of {spec.Batch}" : "")}" +
                $"{(spec.User is { } u ? $", as {u}" : "")}{(spec.WorkDir is { } d ? $", in {d}" : "")}{(view.Task.Cancelled ? $", cancelled by {view.Task.CancelledBy}" : "")}");
            foreach (var r in view.Nodes)
            {
                ctx.Out.WriteLine(Format.TaskResult(r));
                foreach (var line in Format.Indented(r.Stdout, "stdout").Concat(Format.Indented(r.Stderr, "stderr"))) ctx.Out.WriteLine(line);
            }
            ctx.Out.WriteLine($"{view.Nodes.Length} node(s): {Format.TaskStates(view.Nodes)}");
            return ExitCodes.Ok;
        }));
        return command;
    }

    private static Command Cancel(CliRunner run)
    {
        var id = new Argument<string>("id") { Description = "the task's id" };
        var command = new Command("cancel", "cancel a task: no node starts it any more; a node running it kills it") { id };
        command.SetAction((parse, cancel) => run.Invoke(parse, async ctx =>
        {
            var view = await ctx.Client.CancelTaskAsync(parse.GetValue(id)!, ChangeRequests.Author, cancel);
            if (ctx.Json) ctx.WriteJson(view);
            else ctx.Out.WriteLine($"task {view.Task.Id} cancelled; {Format.TaskStates(view.Nodes)} (nodes that already answered keep their result)");
            return ExitCodes.Ok;
        }));
        return command;
    }
}
