using System.CommandLine;
using Mesh.Protocol.Api;
using Mesh.Protocol.Signing;

namespace Mesh.Cli.Commands;

/// <summary>
/// <c>mesh delete NAME</c>: ends a manifest with a tombstone revision. Nodes stop enforcing it;
/// what it applied stays on the hosts (push a revision with <c>ensure: absent</c> first to
/// remove it). The deletion is kept in history, and a rollback brings the manifest back.
/// </summary>
public static class DeleteCommand
{
    public static Command Create(CliRunner run)
    {
        var name = new Argument<string>("name") { Description = "manifest name" };
        name.CompletionSources.Add(NodeCompletions.ManifestNames(run));
        var message = new Option<string?>("--message", "-m") { Description = "why (kept with the deletion)" };
        var force = new Option<bool>("--force") { Description = "delete even if the manifest changed after the head named by --parent" };
        var parent = new Option<string?>("--parent") { Description = "the version you mean to delete; refused if the head moved on since" };
        var ack = AckFlag.Create();
        var command = new Command("delete", "stop enforcing a manifest everywhere (a tombstone; what it applied stays on the hosts)") { name, message, force, parent, ack };
        command.SetAction((parse, cancel) => run.Invoke(parse, async ctx =>
        {
            var level = AckFlag.Parse(parse.GetValue(ack)!);
            var manifest = parse.GetValue(name)!;
            var head = parse.GetValue(parent)
                ?? (await ctx.Client.BaseHeadsAsync(level, cancel)).FirstOrDefault(m => m.Revision.Manifest == manifest)?.Revision.Version.ToString()
                ?? (await ctx.Client.ManifestAsync(manifest, null, cancel)).Revision.Version.ToString();
            var signature = ctx.SigningKey is { } key
                ? RevisionSignature.Make(key, RevisionSignature.DeletionStatement(manifest, head))
                : null;
            var deleted = await ctx.Client.DeleteAsync(manifest,
                new DeleteRequest(head, parse.GetValue(message), ChangeRequests.Author, signature, parse.GetValue(force), level), cancel);
            if (ctx.Json) ctx.WriteJson(deleted);
            else
                foreach (var p in deleted.Revisions)
                    ctx.Out.WriteLine($"deleted {p.Revision.Manifest} at {p.Revision.Version} (was {p.Revision.Parent}); " +
                        $"{(p.Targets.Length == 0 ? "no node" : string.Join(", ", p.Targets))} stop enforcing it; what it applied stays in place");
            return AckFlag.NotReplicated(ctx, deleted) ? ExitCodes.NotReplicated : ExitCodes.Ok;
        }));
        return command;
    }
}
