using System.CommandLine;

namespace Mesh.Cli.Commands;

/// <summary><c>mesh history NAME</c>: every retained revision of a manifest, newest first.</summary>
public static class HistoryCommand
{
    public static Command Create(CliRunner run)
    {
        var name = new Argument<string>("name") { Description = "manifest name" };
        name.CompletionSources.Add(NodeCompletions.ManifestNames(run));
        var command = new Command("history", "list the revisions of a manifest: version, time, author, origin, message, hash, size, who applied it") { name };
        command.SetAction((parse, cancel) => run.Invoke(parse, async ctx =>
        {
            var history = await ctx.Client.HistoryAsync(parse.GetValue(name)!, cancel);
            if (ctx.Json) ctx.WriteJson(history);
            else
            {
                ctx.WriteTable(["version", "pushed", "author", "origin", "hash", "size", "signer", "applied by", "message"], history.Select(h => new[]
                {
                    h.Head ? $"{h.Revision.Version} (head)" : h.Lost ? $"{h.Revision.Version} (lost)" : h.Revision.Version.ToString(),
                    h.Revision.Time.ToString("yyyy-MM-dd HH:mm:ss"), h.Revision.Author, h.Revision.Origin,
                    h.Revision.Deleted ? "(deleted)" : Format.ShortHash(h.Revision.Hash), Format.Size(h.Revision.Size),
                    h.Revision.Signature?.KeyId ?? "unsigned", string.Join(",", h.AppliedBy), h.Revision.Message,
                }));
                if (history.Any(h => h.Lost))
                    ctx.Out.WriteLine("(lost): overwritten by a concurrent push that never saw it (pushed on the other side of a partition, or through another node at the same moment); see mesh status");
            }
            return ExitCodes.Ok;
        }));
        return command;
    }
}
