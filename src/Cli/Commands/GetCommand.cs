using System.CommandLine;
using Mesh.Protocol.Manifests;

namespace Mesh.Cli.Commands;

/// <summary><c>mesh get NAME</c>: one manifest's head revision and its canonical body.</summary>
public static class GetCommand
{
    public static Command Create(CliRunner run)
    {
        var name = new Argument<string>("name") { Description = "manifest name" };
        name.CompletionSources.Add(NodeCompletions.ManifestNames(run));
        var revision = new Option<string?>("--revision", "-r") { Description = "an older revision: its version, a prefix of it, or a hash prefix (see mesh history)" };
        var command = new Command("get", "show a manifest: its current (or an older) revision and its content") { name, revision };
        command.SetAction((parse, cancel) => run.Invoke(parse, async ctx =>
        {
            var detail = await ctx.Client.ManifestAsync(parse.GetValue(name)!, parse.GetValue(revision), cancel);
            if (ctx.Json)
            {
                ctx.WriteJson(detail);
                return ExitCodes.Ok;
            }
            var r = detail.Revision;
            ctx.Out.WriteLine($"manifest: {r.Manifest}");
            ctx.Out.WriteLine($"version:  {r.Version}");
            ctx.Out.WriteLine($"parent:   {r.Parent ?? "(none)"}");
            ctx.Out.WriteLine($"hash:     {r.Hash}");
            ctx.Out.WriteLine($"size:     {Format.Size(r.Size)}");
            ctx.Out.WriteLine($"author:   {r.Author} (pushed to {r.Origin}, {r.Time:u})");
            ctx.Out.WriteLine($"target:   {r.Target}");
            if (r.Message.Length > 0) ctx.Out.WriteLine($"message:  {r.Message}");
            ctx.Out.WriteLine();
            ctx.Out.WriteLine(CanonicalText.Pretty(detail.Canonical));
            return ExitCodes.Ok;
        }));
        return command;
    }
}
