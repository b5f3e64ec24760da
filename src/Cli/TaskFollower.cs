using Mesh.Protocol.Api;
using Mesh.Protocol.Tasks;

namespace Mesh.Cli;

/// <summary>
/// <c>mesh run --wait</c>: asks the node for the task's view (backing off from 200 ms to 2 s),
/// prints each node's final result once, as it arrives, with its output (and on stderr a
/// progress line whenever the counts change), and decides the exit
/// code: 0 only when every node the task targeted answered <c>ok</c>; 1 when one failed, was
/// refused, rejected, cancelled or expired, or was still silent at the deadline (named).
/// </summary>
public static class TaskFollower
{
    public static async Task<int> FollowAsync(CliContext ctx, string id, TimeSpan waitFor, CancellationToken cancel)
    {
        var deadline = DateTime.UtcNow + waitFor;
        var printed = new HashSet<string>(StringComparer.Ordinal);
        var pause = TimeSpan.FromMilliseconds(200);
        var progress = "";
        TaskView view;
        while (true)
        {
            view = await ctx.Client.TaskAsync(id, cancel);
            foreach (var result in view.Nodes.Where(r => TaskStates.Final(r.State) && printed.Add(r.Node))) Print(ctx, result);
            if (view.Done || DateTime.UtcNow >= deadline) break;
            var now = $"  {printed.Count}/{view.Nodes.Length} answered ({Format.TaskStates(view.Nodes)})";
            if (now != progress)
            {
                // Something moved: look again soon.
                if (!ctx.Json) ctx.Error.WriteLine(now);
                progress = now;
                pause = TimeSpan.FromMilliseconds(200);
            }
            await Task.Delay(pause, cancel);
            pause = TimeSpan.FromMilliseconds(Math.Min(2000, pause.TotalMilliseconds * 2));
        }
        if (view.Nodes.Length == 0)
        {
            ctx.Error.WriteLine("mesh: no member was targeted when the task was posted; a targeted node that joins before it expires will run it (mesh task get " + id + ")");
            return ExitCodes.Failed;
        }
        var silent = view.Nodes.Where(r => !TaskStates.Final(r.State)).ToArray();
        if (ctx.Json) foreach (var r in silent) ctx.WriteJson(r);
        var ok = view.Nodes.Count(r => r.State == TaskStates.Ok);
        if (!ctx.Json)
        {
            ctx.Out.WriteLine($"{view.Nodes.Length} node(s): {Format.TaskStates(view.Nodes)}");
            if (silent.Length > 0)
                ctx.Out.WriteLine($"no answer by the deadline from: {string.Join(", ", silent.Select(r => $"{r.Node} ({r.State})"))}");
            if (view.Nodes.Any(r => r.Truncated))
                ctx.Out.WriteLine($"output shown is cut at {TaskResult.OutputCap} bytes per stream; the whole of it: mesh task get {id} --node NODE");
        }
        return ok == view.Nodes.Length && view.Nodes.Length > 0 ? ExitCodes.Ok : ExitCodes.Failed;
    }

    private static void Print(CliContext ctx, TaskResult result)
    {
        if (ctx.Json)
        {
            ctx.WriteJson(result);
            return;
        }
        ctx.Out.WriteLine(Format.TaskResult(result));
        foreach (var line in Format.Indented(result.Stdout, "stdout").Concat(Format.Indented(result.Stderr, "stderr"))) ctx.Out.WriteLine(line);
    }
}
