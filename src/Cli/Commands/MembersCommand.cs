using System.CommandLine;

namespace Mesh.Cli.Commands;

/// <summary><c>mesh members</c>: the nodes of the cluster as the asked node sees them.</summary>
public static class MembersCommand
{
    public static Command Create(CliRunner run)
    {
        var command = new Command("members", "list the nodes of the mesh: name, status, address, roles, labels, key (the id of the key secrets are sealed to)");
        command.SetAction((parse, cancel) => run.Invoke(parse, async ctx =>
        {
            var members = await ctx.Client.MembersAsync(cancel);
            if (ctx.Json) ctx.WriteJson(members);
            else
                ctx.WriteTable(["name", "status", "address", "roles", "labels", "key"], members.Select(m => new[]
                {
                    m.Self ? m.Name + " *" : m.Name,
                    m.Reachable ? m.Status : m.Status + " (unreachable)",
                    m.Address,
                    string.Join(",", m.Roles),
                    string.Join(",", m.Labels.OrderBy(l => l.Key, StringComparer.Ordinal).Select(l => $"{l.Key}={l.Value}")),
                    KeyId(m.Key),
                }));
            return ExitCodes.Ok;
        }));
        return command;
    }

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
