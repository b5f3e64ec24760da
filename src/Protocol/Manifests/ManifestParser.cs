using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using YamlDotNet.Core;
using YamlDotNet.Core.Events;
using YamlDotNet.RepresentationModel;

namespace Mesh.Protocol.Manifests;

/// <summary>
/// YAML text to a validated <see cref="Manifest"/>, or every error found, each naming the
/// source, line, column and field. The canonical form (JSON) is read by the same parser.
/// </summary>
public static partial class ManifestParser
{
    /// <summary>Nesting deeper than this is refused: no legitimate manifest needs it.</summary>
    public const int MaxDepth = 64;

    /// <summary>Values (after alias expansion) a manifest may hold: defuses "billion laughs".</summary>
    /// <remarks>Both limits are enforced while the YAML is read, by <see cref="LimitedParser"/>.</remarks>
    public const int MaxValues = 100_000;

    [GeneratedRegex("^[a-z0-9][a-z0-9._-]{0,62}$")]
    private static partial Regex NamePattern();

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")]
    private static partial Regex IdPattern();

    public static Manifest Parse(string text, string source)
    {
        var context = new ParseContext(source);
        var manifest = TryParse(text, context);
        if (context.Errors.Count > 0 || manifest is null) throw new ManifestException(context.Errors);
        return manifest;
    }

    private static Manifest? TryParse(string text, ParseContext context)
    {
        var stream = new YamlStream();
        var scanner = new Scanner(new StringReader(text));
        try
        {
            stream.Load(new LimitedParser(new Parser(scanner)));
        }
        catch (LimitExceededException e)
        {
            context.Error(e.Start, "", e.Message);
            return null;
        }
        catch (YamlException e)
        {
            var problem = e.InnerException as YamlException ?? e;
            context.Error(problem.Start, "", $"invalid YAML: {problem.Message}");
            return null;
        }
        catch (InvalidOperationException)
        {
            // YamlDotNet's scanner throws this, not a YamlException, when a line inside [...] or {...}
            // is indented less than the block holding the collection: mostly a bracket left open.
            context.Error(scanner.CurrentPosition, "", "invalid YAML: a line inside [...] or {...} is indented less than the collection (is a bracket left open?)");
            return null;
        }

        if (stream.Documents.Count != 1)
        {
            context.Error("", stream.Documents.Count == 0 ? "the file is empty" : "a manifest file holds exactly one YAML document");
            return null;
        }
        if (stream.Documents[0].RootNode is not YamlMappingNode root)
        {
            context.Error(stream.Documents[0].RootNode, "", "a manifest is a mapping with 'manifest', 'target', 'vars' and 'resources'");
            return null;
        }

        var f = new FieldReader(root, "", context);
        var name = f.String("manifest", required: true) ?? "";
        if (name.Length > 0 && !NamePattern().IsMatch(name))
            context.Error(f.Raw("manifest")!, "manifest", $"'{name}' is not a valid name (lowercase letters, digits, '.', '_', '-'; at most 63)");

        var target = ParseTarget(f, context);
        var vars = ParseVars(f, context);
        var resources = ParseResources(f, context);
        f.RejectUnknown();
        CheckGraph(resources, context);
        return new Manifest(name, target, vars, resources.Select(r => r.Spec).ToArray());
    }

    private static TargetSpec ParseTarget(FieldReader f, ParseContext context)
    {
        var node = f.Raw("target");
        if (node is null || node is YamlScalarNode s && FieldReader.IsNull(s)) return TargetSpec.All;
        if (node is not YamlMappingNode map)
        {
            context.Error(node, "target", "must be a mapping with roles, labels and/or nodes");
            return TargetSpec.All;
        }
        var t = new FieldReader(map, "target", context);
        var target = new TargetSpec(t.StringList("roles"), t.StringMap("labels"), t.StringList("nodes"));
        t.RejectUnknown();
        return target;
    }

    private static JsonObject ParseVars(FieldReader f, ParseContext context)
    {
        var node = f.Raw("vars");
        if (node is null || node is YamlScalarNode s && FieldReader.IsNull(s)) return new JsonObject();
        if (node is not YamlMappingNode) context.Error(node, "vars", "must be a mapping");
        return ToJson(node) as JsonObject ?? new JsonObject();
    }

    private sealed record ParsedResource(ResourceSpec Spec, YamlMappingNode Node, string Field);

    private static List<ParsedResource> ParseResources(FieldReader f, ParseContext context)
    {
        var result = new List<ParsedResource>();
        var node = f.Raw("resources");
        if (node is null || node is YamlScalarNode s && FieldReader.IsNull(s)) return result;
        if (node is not YamlSequenceNode seq)
        {
            context.Error(node, "resources", "must be a list of resources");
            return result;
        }
        var ids = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < seq.Children.Count; i++)
        {
            var field = $"resources[{i}]";
            if (seq.Children[i] is not YamlMappingNode map)
            {
                context.Error(seq.Children[i], field, "a resource is a mapping with at least 'id' and 'type'");
                continue;
            }
            var r = new FieldReader(map, field, context);
            var id = r.String("id", required: true) ?? "";
            if (id.Length > 0)
            {
                field = $"resources[{i}] ({id})";
                r = new FieldReader(map, field, context);
                r.Raw("id");
                if (!IdPattern().IsMatch(id)) context.Error(r.Raw("id")!, r.Field("id"), $"'{id}' is not a valid id (letters, digits, '.', '_', '-')");
                else if (!ids.Add(id)) context.Error(r.Raw("id")!, r.Field("id"), $"duplicate id '{id}'");
            }
            var kind = r.String("type", required: true);
            var requires = r.StringList("requires");
            if (kind is null) continue;
            if (!ResourceKinds.Parsers.TryGetValue(kind, out var parse))
            {
                context.Error(r.Raw("type")!, r.Field("type"), $"unknown resource type '{kind}' (known: {string.Join(", ", ResourceKinds.Parsers.Keys.Order(StringComparer.Ordinal))})");
                continue;
            }
            var spec = parse(r, id, requires);
            r.RejectUnknown();
            result.Add(new ParsedResource(spec, map, field));
        }
        return result;
    }

    /// <summary>Every <c>requires</c> names a resource of the manifest, two resources never manage one path, and there is no cycle.</summary>
    private static void CheckGraph(List<ParsedResource> resources, ParseContext context)
    {
        // First one wins: a duplicate id is already reported, and must not crash the checks below.
        var byId = new Dictionary<string, ParsedResource>(StringComparer.Ordinal);
        foreach (var r in resources) byId.TryAdd(r.Spec.Id, r);
        foreach (var r in resources)
            foreach (var dep in r.Spec.Requires)
                if (!byId.ContainsKey(dep))
                    context.Error(RequiresEntry(r, dep), $"{r.Field}.requires", $"'{dep}' is not a resource of this manifest");

        var byPath = new Dictionary<string, ParsedResource>(StringComparer.Ordinal);
        foreach (var r in resources)
        {
            var path = r.Spec switch { FileResource fr => fr.Path, DirectoryResource d => d.Path, _ => null };
            if (path is null || path.Length == 0) continue;
            if (byPath.TryGetValue(path, out var other))
                context.Error(FieldReader.Child(r.Node, "path") ?? r.Node, $"{r.Field}.path", $"'{path}' is already managed by '{other.Spec.Id}'");
            else byPath[path] = r;
        }

        var cycle = ResourceGraph.FindCycle(resources.Select(r => r.Spec).ToArray());
        if (cycle is not null)
        {
            var first = byId[cycle[0]];
            context.Error(RequiresEntry(first, cycle[1]), $"{first.Field}.requires", $"dependency cycle: {string.Join(" -> ", cycle)}");
        }
    }

    /// <summary>The <c>requires</c> entry naming <paramref name="dependency"/>, so the error points at that line.</summary>
    private static YamlNode RequiresEntry(ParsedResource r, string dependency) => FieldReader.Child(r.Node, "requires") switch
    {
        YamlSequenceNode list => list.Children.FirstOrDefault(c => c is YamlScalarNode s && s.Value == dependency) ?? list,
        { } single => single,
        null => r.Node,
    };

    private static JsonNode? ToJson(YamlNode node) => node switch
    {
        YamlMappingNode m => new JsonObject(m.Children.Select(kv =>
            KeyValuePair.Create(((kv.Key as YamlScalarNode)?.Value) ?? kv.Key.ToString(), ToJson(kv.Value)))),
        YamlSequenceNode s => new JsonArray(s.Children.Select(ToJson).ToArray()),
        YamlScalarNode sc when FieldReader.IsNull(sc) => null,
        YamlScalarNode sc => JsonValue.Create(sc.Value ?? ""),
        _ => null,
    };
}
