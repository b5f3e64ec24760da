using System.CommandLine;
using System.Text.Json.Nodes;
using Mesh.Protocol.Api;
using Mesh.Protocol.Manifests;

namespace Mesh.Cli.Commands;

/// <summary><c>mesh members [--facts] [--target EXPR]</c>: the nodes of the cluster as the asked node sees them.</summary>
public static class MembersCommand
{
    public static Command Create(CliRunner run)
    {
        var facts = new Option<bool>("--facts") { Description = "add each member's main facts (os, arch, cpus, memory); --json gives them all" };
        var target = new Option<string?>("--target")
        {
            Description = "only the members this target selects now, as a push would, e.g. '{roles: [web], facts: {os: debian, \"memory_mb>=\": 4096}}'",
        };
        var command = new Command("members", "list the nodes of the mesh: name, status, address, roles, labels, key (the id of the key secrets are sealed to)") { facts, target };
        command.SetAction((parse, cancel) => run.Invoke(parse, async ctx =>
        {
            var expression = parse.GetValue(target);
            if (expression is not null) Check(expression);
            var withFacts = parse.GetValue(facts);
            var members = await ctx.Client.MembersAsync(withFacts, expression, cancel);
            if (ctx.Json) ctx.WriteJson(members);
            else
            {
                string[] header = ["name", "status", "address", "roles", "labels", "key"];
                ctx.WriteTable(withFacts ? [.. header, "os", "arch", "cpus", "memory_mb"] : header, members.Select(m =>
                {
                    string[] row =
                    [
                        m.Self ? m.Name + " *" : m.Name,
                        m.Peer is { } peer ? $"{m.Status} ({peer})" : m.Reachable ? m.Status : m.Status + " (unreachable)",
                        m.Address,
                        string.Join(",", m.Roles),
                        string.Join(",", m.Labels.OrderBy(l => l.Key, StringComparer.Ordinal).Select(l => $"{l.Key}={l.Value}")),
                        KeyId(m.Key),
                    ];
                    return withFacts ? [.. row, Fact(m.Facts, "os", "os_version"), Fact(m.Facts, "arch"), Fact(m.Facts, "cpus"), Fact(m.Facts, "memory_mb")] : row;
                }));
                if (expression is not null && members.Length == 0) ctx.Out.WriteLine($"no member is targeted by {expression}");
            }
            return ExitCodes.Ok;
        }));
        return command;
    }

    /// <summary>A bad target is refused here, naming the option, before any node is asked.</summary>
    private static void Check(string expression)
    {
        try
        {
            ManifestParser.ParseTarget(expression);
        }
        catch (ManifestException e)
        {
            throw e.Errors.Count == 1
                ? new CliException(ExitCodes.Invalid, e.Errors[0].ToString())
                : new CliException(ExitCodes.Invalid, $"{e.Errors.Count} errors in --target", e.Errors);
        }
    }

    /// <summary>One or two facts, joined by a space; "?" while the member's facts are not known.</summary>
    private static string Fact(JsonObject? facts, params string[] names) =>
        facts is null ? "?" : string.Join(" ", names.Select(n => facts[n]?.ToString() ?? "").Where(v => v.Length > 0)) is { Length: > 0 } text ? text : "-";

    /// <summary>The id envelopes name a member's key by, or "-" for a member that publishes none.</summary>
    private static string KeyId(string? key)
    {
        try
        {
            return key is null ? "-" : Mesh.Protocol.Secrets.SecretBox.KeyIdText(Convert.FromBase64String(key));
        }
        catch (FormatException)
        {
            return "(malformed)";
        }
    }
}
