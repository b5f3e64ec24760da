using System.CommandLine;

namespace Mesh.Cli.Commands;

/// <summary><c>mesh list</c>: every manifest with its head revision.</summary>
public static class ListCommand
{
    public static Command Create(CliRunner run)
    {
        var command = new Command("list", "list the manifests of the mesh with their current revision");
        command.SetAction((parse, cancel) => run.Invoke(parse, async ctx =>
        {
            var manifests = await ctx.Client.ManifestsAsync(cancel);
            if (ctx.Json) ctx.WriteJson(manifests);
            else
                ctx.WriteTable(["manifest", "version", "hash", "size", "author", "origin", "pushed", "targets", "message"],
                    manifests.Select(m => new[]
                    {
                        m.Revision.Manifest, m.Revision.Version.ToString(), Format.ShortHash(m.Revision.Hash), Format.Size(m.Revision.Size),
                        m.Revision.Author, m.Revision.Origin, Format.Age(m.Revision.Time),
                        $"{m.Revision.Target} ({m.Targets.Length} nodes)", m.Revision.Message,
                    }));
            return ExitCodes.Ok;
        }));
        return command;
    }
}
