using System.CommandLine;

namespace Mesh.Cli.Commands;

/// <summary><c>mesh events</c>: the live stream of revisions, reports and membership changes.</summary>
public static class EventsCommand
{
    public static Command Create(CliRunner run)
    {
        var command = new Command("events", "stream events live: new revisions, apply reports, members joining and leaving");
        command.SetAction((parse, cancel) => run.Invoke(parse, async ctx =>
        {
            var events = await ctx.Client.EventsAsync(cancel);
            ctx.Error.WriteLine($"mesh: streaming events from {ctx.Client.Api} (Ctrl-C to stop)");
            await foreach (var e in events.WithCancellation(cancel))
            {
                if (ctx.Json) ctx.WriteJson(e);
                else ctx.Out.WriteLine($"{DateTimeOffset.Now:HH:mm:ss.fff}  {e.Kind,-11} {Describe(e)}");
                await ctx.Out.FlushAsync(cancel);
            }
            // The node closed the stream: it is stopping or gone.
            ctx.Error.WriteLine($"mesh: the event stream from {ctx.Client.Api} ended (node stopped?)");
            return ExitCodes.Failed;
        }));
        return command;
    }

    private static string Describe(Mesh.Protocol.Api.MeshEvent e) => e switch
    {
        { Report: { } r } => Format.Report(r),
        { Revision: { } r } => $"{r.Manifest} {r.Version} {Format.ShortHash(r.Hash)} by {r.Author} via {r.Origin}" + (r.Message.Length > 0 ? $": {r.Message}" : ""),
        { Member: { } m } => $"{m.Name} {m.Status} {m.Address}" + (m.Reachable ? "" : " unreachable"),
        _ => "",
    };
}
