using System.CommandLine;
using Mesh.Protocol.Api;
using Mesh.Protocol.Manifests;
using Mesh.Protocol.Signing;

namespace Mesh.Cli.Commands;

/// <summary>
/// <c>mesh push FILE... [--wait]</c>: sends manifests to one node, which validates them and
/// spreads them. With <c>--wait</c>, prints each targeted node's report as it arrives and
/// succeeds only when every one of them applied the new revision; a manifest with a rollout
/// (its <c>rollout:</c> section, or <c>--batch</c>, <c>--max-failures</c>, <c>--pause</c>) is
/// followed batch by batch and succeeds only when the rollout completed.
/// </summary>
public static class PushCommand
{
    public static Command Create(CliRunner run)
    {
        var files = new Argument<FileInfo[]>("file") { Description = "manifest files (YAML)", Arity = ArgumentArity.OneOrMore };
        var message = new Option<string?>("--message", "-m") { Description = "why this change (kept with the revision)" };
        var wait = new Option<bool>("--wait") { Description = "wait for every targeted node's report; fail if one fails or stays silent" };
        var timeout = new Option<string>("--timeout") { Description = "how long --wait (or --dry-run) waits, e.g. 30s, 2m (default 60s)", DefaultValueFactory = _ => "60s" };
        var dryRun = new Option<bool>("--dry-run") { Description = "push nothing: show what every targeted node would change (as mesh diff)" };
        var force = new Option<bool>("--force") { Description = "push even if the manifest changed since you last looked (the other revision stays in history)" };
        var parent = new Option<string?>("--parent") { Description = "the version your edit is based on (from mesh get/list); refused if the head moved on since" };
        var batch = new Option<string?>("--batch") { Description = "roll out in cumulative batches, counts or percentages ending at 100%, e.g. 1,10%,50%,100% (over the manifest's rollout: section)" };
        var maxFailures = new Option<string?>("--max-failures") { Description = "failed nodes a rollout tolerates before it halts: N or P% (default 0)" };
        var pause = new Option<string?>("--pause") { Description = "wait between rollout batches, e.g. 30s, or 'manual' (until mesh rollout resume)" };
        var ack = AckFlag.Create();
        var view = new SummaryFlags("targeted nodes");
        var command = new Command("push", "push manifests to the mesh")
        {
            files, message, wait, timeout, dryRun, force, parent, batch, maxFailures, pause, ack, view.Summary, view.Table,
        };
        command.SetAction((parse, cancel) => run.Invoke(parse, async ctx =>
        {
            var waitFor = Durations.Parse(parse.GetValue(timeout)!, "--timeout");
            var level = AckFlag.Parse(parse.GetValue(ack)!);
            var summary = view.Read(parse);
            var request = await ChangeRequests.ReadAsync(ctx, parse.GetValue(files)!, parse.GetValue(message), cancel);
            if (parse.GetValue(dryRun)) return PlanOutput.Print(ctx, await ctx.Client.PlanAsync(request, waitFor, cancel));

            // The text to be sent, prepared once: its names choose the parents, its hashes are signed.
            // A file that does not parse gets neither: the node refuses it, naming all its errors.
            var prepared = PreparedManifest.PrepareWhatParses(request.Manifests);
            var flags = new RolloutFlags(parse.GetValue(batch), parse.GetValue(maxFailures), parse.GetValue(pause));
            if (flags.Any) request = request with { Rollout = flags };
            request = request with { Ack = level };
            request = parse.GetValue(force) ? request with { Force = true } : request with { Parents = await SeenHeads(ctx, request, prepared, parse.GetValue(parent), level, cancel) };
            if (ctx.SigningKey is { } key) request = request with { Signatures = PushSignatures.Sign(prepared, key) };
            else if (!ctx.Json) ctx.Error.WriteLine($"mesh: pushing unsigned (no signing key: see mesh keygen); nodes with a trust list will refuse it");

            return await ChangeFollower.MakeAsync(ctx, token => ctx.Client.PushAsync(request, token), parse.GetValue(wait), waitFor, cancel, summary);
        }));
        return command;
    }

    /// <summary>
    /// The version each pushed manifest builds on: the one given with --parent, else the head
    /// the node shows now (which still catches a push that raced this one), read at the level the
    /// node checks it: from a majority, or from its own replica with --ack local.
    /// </summary>
    private static async Task<Dictionary<string, string>> SeenHeads(CliContext ctx, PushRequest request, IEnumerable<PreparedManifest> prepared, string? parent,
        AckLevel level, CancellationToken cancel)
    {
        if (parent is not null && request.Manifests.Length != 1)
            throw new CliException(ExitCodes.Invalid, "--parent names the base of one manifest: push one file with it");
        var heads = (await ctx.Client.BaseHeadsAsync(level, cancel)).ToDictionary(m => m.Revision.Manifest, m => m.Revision.Version.ToString());
        var parents = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var m in prepared) parents[m.Name] = parent ?? heads.GetValueOrDefault(m.Name, "");
        return parents;
    }
}
