using System.CommandLine;
using System.Security.Cryptography;
using System.Text;
using Mesh.Protocol.Api;
using Mesh.Protocol.Manifests;
using Mesh.Protocol.Secrets;
using Mesh.Protocol.Signing;
using Mesh.Protocol.Tasks;

namespace Mesh.Cli.Commands;

/// <summary>
/// <c>mesh run [--target EXPR] [--wait] -- COMMAND ARGS...</c> (or <c>--script FILE</c>): posts a
/// task that every targeted node runs once, signed with the operator's key. With <c>--wait</c>,
/// prints each node's result as it arrives and succeeds only when every targeted node ran it
/// with exit code 0.
/// </summary>
public static class RunCommand
{
    public static Command Create(CliRunner run)
    {
        var argv = new Argument<string[]>("command") { Description = "the program and its arguments, after -- (run without a shell)", Arity = ArgumentArity.ZeroOrMore };
        var script = new Option<FileInfo?>("--script") { Description = "a script file, run with /bin/sh -c instead of a command" };
        var target = new Option<string?>("--target") { Description = "which nodes, as a manifest's target in flow form, e.g. '{roles: [web]}' (default: every node)" };
        var timeout = new Option<string>("--timeout") { Description = "how long the command may run on a node before it is killed (default 60s)", DefaultValueFactory = _ => "60s" };
        var ttl = new Option<string>("--ttl") { Description = "how long a node that is down or cut off may still start it when it comes back (default 10m)", DefaultValueFactory = _ => "10m" };
        var batch = new Option<int>("--batch") { Description = "at most this many nodes at once, in name order (default: all at once)" };
        var user = new Option<string?>("--user") { Description = "run as this user (default: the node's own user, or mesh.tasks.user)" };
        var cwd = new Option<string?>("--cwd") { Description = "working directory on the nodes, absolute (default /)" };
        var secret = new Option<string[]>("--secret") { Description = "NAME=VALUE: sealed to the targeted nodes, set in the command's environment, redacted from its output (repeatable)" };
        var wait = new Option<bool>("--wait") { Description = "print each node's result as it arrives; fail if one fails or stays silent" };
        var waitTimeout = new Option<string?>("--wait-timeout") { Description = "how long --wait waits for the last node (default: --timeout plus 60s)" };
        var command = new Command("run", "run a command once on every targeted node and collect the results")
            { argv, script, target, timeout, ttl, batch, user, cwd, secret, wait, waitTimeout };
        command.SetAction((parse, cancel) => run.Invoke(parse, async ctx =>
        {
            var runFor = Durations.Parse(parse.GetValue(timeout)!, "--timeout");
            var liveFor = Durations.Parse(parse.GetValue(ttl)!, "--ttl");
            var waitFor = parse.GetValue(waitTimeout) is { } w ? Durations.Parse(w, "--wait-timeout") : runFor + TimeSpan.FromSeconds(60);
            var (commandArgs, scriptText) = Command(parse.GetValue(argv) ?? [], parse.GetValue(script));
            var targetText = parse.GetValue(target)?.Trim() ?? "";
            var targetSpec = ParseTarget(parse.GetValue(target));
            if (parse.GetValue(batch) < 0) throw new CliException(ExitCodes.Invalid, $"--batch {parse.GetValue(batch)}: must be 0 (no limit) or more");

            var id = NewId();
            var spec = new TaskSpec(id, commandArgs, scriptText, targetText, DateTimeOffset.UtcNow, liveFor, runFor,
                parse.GetValue(user), parse.GetValue(cwd), parse.GetValue(batch),
                await SealAsync(ctx, id, targetSpec, parse.GetValue(secret) ?? [], cancel));
            // The node is the judge, but a mistake it would refuse is said here, before anything is sent.
            if (spec.Problems(spec.Issued) is { Count: > 0 } problems)
                throw new CliException(ExitCodes.Invalid, "the task is refused; nothing was sent:\n  " + string.Join("\n  ", problems));

            RevisionSignature? signature = null;
            if (ctx.SigningKey is { } key) signature = RevisionSignature.Make(key, spec.Statement());
            else if (!ctx.Json) ctx.Error.WriteLine("mesh: posting an unsigned task (no signing key: see mesh keygen); nodes with a trust list will refuse it");

            var posted = await ctx.Client.PostTaskAsync(new TaskRequest(spec, ChangeRequests.Author, signature), cancel);
            if (!parse.GetValue(wait))
            {
                if (ctx.Json) ctx.WriteJson(posted);
                else
                    ctx.Out.WriteLine($"task {id} posted for {posted.Task.Targets.Length} node(s): {string.Join(", ", posted.Task.Targets)}" +
                        $"{Environment.NewLine}follow it with: mesh task get {id}");
                return ExitCodes.Ok;
            }
            if (!ctx.Json) ctx.Out.WriteLine($"task {id}: {posted.Task.Targets.Length} node(s) targeted now: {string.Join(", ", posted.Task.Targets)}");
            return await TaskFollower.FollowAsync(ctx, id, waitFor, cancel);
        }));
        return command;
    }

    private static (string[]? Command, string? Script) Command(string[] argv, FileInfo? script)
    {
        if (script is not null)
        {
            if (argv.Length > 0) throw new CliException(ExitCodes.Invalid, "give a command after -- or --script FILE, not both");
            try
            {
                var text = File.ReadAllText(script.FullName);
                if (string.IsNullOrWhiteSpace(text)) throw new CliException(ExitCodes.Invalid, $"--script {script}: the file is empty");
                return (null, text);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new CliException(ExitCodes.Invalid, $"--script {script}: {e.Message}");
            }
        }
        if (argv.Length == 0 || string.IsNullOrWhiteSpace(argv[0]))
            throw new CliException(ExitCodes.Invalid, "no command: give one after -- (e.g. mesh run -- uptime) or --script FILE");
        return (argv, null);
    }

    private static TargetSpec ParseTarget(string? text)
    {
        if (text is null) return TargetSpec.All;
        try
        {
            return ManifestParser.ParseTarget(text);
        }
        catch (ManifestException e)
        {
            throw new CliException(ExitCodes.Invalid, "--target is refused; nothing was sent", e.Errors);
        }
    }

    /// <summary>Sorts in time order and is hard to guess: the UTC time to the second and 6 random hex digits.</summary>
    private static string NewId() => $"{DateTime.UtcNow:yyyyMMdd-HHmmss}-{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(3))}";

    /// <summary>Each <c>--secret NAME=VALUE</c> sealed to the members the target selects now, bound to this task's id.</summary>
    private static async Task<Dictionary<string, string>?> SealAsync(CliContext ctx, string id, TargetSpec target, string[] pairs, CancellationToken cancel)
    {
        if (pairs.Length == 0) return null;
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var pair in pairs)
        {
            var eq = pair.IndexOf('=');
            if (eq <= 0) throw new CliException(ExitCodes.Invalid, $"--secret '{pair.Split('=')[0]}=...': expected NAME=VALUE");
            values[pair[..eq]] = pair[(eq + 1)..];
        }
        var members = (await ctx.Client.MembersAsync(cancel)).Where(m => m.Status is "up" or "weaklyup" or "joining").ToArray();
        var (targeted, keys) = ManifestSealing.MemberKeys(ctx, target, members, "the task's secrets");
        if (keys.Length == 0)
            throw new CliException(ExitCodes.Invalid, targeted.Length == 0
                ? "--secret: no member is targeted to seal the secrets for; nothing was sent"
                : $"--secret: none of the targeted members ({string.Join(", ", targeted)}) publishes a key to seal the secrets for; nothing was sent");
        return values.ToDictionary(v => v.Key, v => SecretBox.Seal(Encoding.UTF8.GetBytes(v.Value), keys, "task:" + id), StringComparer.Ordinal);
    }
}
