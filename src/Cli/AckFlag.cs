using System.CommandLine;
using Mesh.Protocol.Api;

namespace Mesh.Cli;

/// <summary>
/// <c>--ack local|majority|all</c>, shared by the commands that make a change, and the line and
/// exit code of a change the node accepted without reaching that quorum.
/// </summary>
public static class AckFlag
{
    public static Option<string> Create() => new("--ack")
    {
        Description = "what must hold the change before the node answers success: local (this node), majority (default), all (every member)",
        DefaultValueFactory = _ => "majority",
    };

    public static AckLevel Parse(string text) => text switch
    {
        "local" => AckLevel.Local,
        "majority" => AckLevel.Majority,
        "all" => AckLevel.All,
        _ => throw new CliException(ExitCodes.Invalid, $"--ack '{text}' is not one of local, majority, all"),
    };

    /// <summary>The query-string word of a level.</summary>
    public static string Word(AckLevel level) => level.ToString().ToLowerInvariant();

    /// <summary>Whether the node said the change is not replicated as asked; if so, says it on the output.</summary>
    public static bool NotReplicated(CliContext ctx, PushResponse response)
    {
        if (response.Ack is not { Reached: false } ack) return false;
        if (!ctx.Json)
        {
            var node = response.Revisions.Select(r => r.Revision.Origin).FirstOrDefault(n => n.Length > 0) ?? "the node";
            var wanted = ack.Wanted == AckLevel.All ? "every member" : "a majority";
            ctx.Out.WriteLine($"accepted by {node} only, not yet replicated to {wanted}: {ack.Reason}; " +
                $"it will spread when the members are reachable again (mesh status on {node} lists it until then)" +
                (ack.HeldBy.Length > 0 ? $"; body also held by {string.Join(", ", ack.HeldBy)}" : ""));
        }
        return true;
    }
}
