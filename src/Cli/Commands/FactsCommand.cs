using System.CommandLine;
using System.Text.Json.Nodes;
using Mesh.Protocol.Api;

namespace Mesh.Cli.Commands;

/// <summary>
/// <c>mesh facts [NODE]</c>: the facts of every member (a table of the main ones) or of one
/// (every fact, one per line, nested ones by dotted path, as targets name them), as the asked node knows them.
/// </summary>
public static class FactsCommand
{
    public static Command Create(CliRunner run)
    {
        var node = new Argument<string?>("node") { Description = "only this node, every fact (default: every node, the main facts)", Arity = ArgumentArity.ZeroOrOne };
        node.CompletionSources.Add(NodeCompletions.NodeNames(run));
        var command = new Command("facts", "show the facts of the nodes (what target.facts and templates see), and the custom facts that failed") { node };
        command.SetAction((parse, cancel) => run.Invoke(parse, async ctx =>
        {
            var one = parse.GetValue(node);
            var facts = await ctx.Client.FactsAsync(one, cancel);
            if (ctx.Json)
            {
                ctx.WriteJson(facts);
                return ExitCodes.Ok;
            }
            if (one is not null)
            {
                var info = facts.Single();
                if (info.Facts is null) ctx.Out.WriteLine($"{info.Node}: facts not known yet (not published, or not here yet)");
                else ctx.WriteTable(["fact", "value"], Flatten(info.Facts, "").Select(kv => new[] { kv.Key, kv.Value }));
                foreach (var error in info.Errors) ctx.Out.WriteLine($"error: {error}");
            }
            else
            {
                ctx.WriteTable(["name", "os", "kernel", "arch", "cpus", "memory_mb", "packages", "errors"], facts.Select(f => new[]
                {
                    f.Node,
                    Value(f.Facts, "os") + (Value(f.Facts, "os_version") is { Length: > 0 } v and not "?" ? " " + v : ""),
                    Value(f.Facts, "kernel"), Value(f.Facts, "arch"), Value(f.Facts, "cpus"), Value(f.Facts, "memory_mb"), Value(f.Facts, "packages"),
                    f.Errors.Length.ToString(),
                }));
                foreach (var f in facts)
                    foreach (var error in f.Errors) ctx.Out.WriteLine($"{f.Node}: error: {error}");
            }
            return ExitCodes.Ok;
        }));
        return command;
    }

    private static string Value(JsonObject? facts, string name) => facts is null ? "?" : facts[name]?.ToString() ?? "-";

    /// <summary>Every leaf fact by its dotted path (list items as path[i]).</summary>
    private static IEnumerable<KeyValuePair<string, string>> Flatten(JsonNode? node, string path) => node switch
    {
        JsonObject o => o.SelectMany(kv => Flatten(kv.Value, path.Length == 0 ? kv.Key : $"{path}.{kv.Key}")),
        JsonArray a when a.Count > 0 => a.SelectMany((item, i) => Flatten(item, $"{path}[{i}]")),
        JsonArray => [KeyValuePair.Create(path, "[]")],
        null => [KeyValuePair.Create(path, "null")],
        _ => [KeyValuePair.Create(path, node.ToString())],
    };
}
