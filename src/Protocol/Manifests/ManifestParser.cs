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

    /// <param name="attachments">Resolves a file named by a <c>source</c> field (relative to the manifest) to the hash it was stored under.</param>
    /// <param name="plaintextSecrets">
    /// Accept <c>!secret</c> values (as plain values): only for the CLI, before it seals them, and
    /// for <c>mesh-node apply</c>. A node's API never does (see <see cref="Secrets.SecretPlacement"/>).
    /// </param>
    public static Manifest Parse(string text, string source, Func<string, string?>? attachments = null, bool plaintextSecrets = false)
    {
        var context = new ParseContext(source) { Attachments = attachments, PlaintextSecrets = plaintextSecrets };
        var manifest = TryParse(text, context);
        if (context.Errors.Count > 0 || manifest is null) throw new ManifestException(context.Errors);
        return manifest;
    }

    /// <summary>
    /// The files a manifest's <c>source</c> fields name (not yet resolved to a hash), so a
    /// client can send them with the push. Malformed text gives none: the push reports why.
    /// </summary>
    public static IReadOnlyList<string> SourcesNamedBy(string text)
    {
        var stream = new YamlStream();
        try
        {
            stream.Load(new LimitedParser(new Parser(new Scanner(new StringReader(text)))));
        }
        catch (Exception e) when (e is YamlException or InvalidOperationException
                                       or ArgumentOutOfRangeException { ParamName: "highSurrogate" or "lowSurrogate" })
        {
            // The same YamlDotNet failures Parse reports (see TryParse); here they just mean "no sources".
            return [];
        }
        if (stream.Documents.Count != 1 || stream.Documents[0].RootNode is not YamlMappingNode root
            || FieldReader.Child(root, "resources") is not YamlSequenceNode resources) return [];
        return resources.Children.OfType<YamlMappingNode>()
            .Select(r => FieldReader.Child(r, "source"))
            .OfType<YamlScalarNode>()
            .Select(s => s.Value ?? "")
            .Where(v => v.Length > 0 && !v.StartsWith(FileResource.SourcePrefix, StringComparison.Ordinal))
            .Distinct()
            .ToArray();
    }

    /// <summary>
    /// A target given on a command line (<c>--target</c>): the same mapping as a manifest's
    /// <c>target:</c> section, usually in YAML's flow form, e.g. <c>{roles: [web], labels: {env: prod}}</c>.
    /// An empty text is refused: "every node" is said by leaving the option out.
    /// </summary>
    /// <exception cref="ManifestException">the text is not such a mapping; errors name <paramref name="source"/></exception>
    public static TargetSpec ParseTarget(string text, string source = "--target")
    {
        var context = new ParseContext(source);
        if (string.IsNullOrWhiteSpace(text))
            throw new ManifestException([new ManifestError(source, 0, 0, "", "the target is empty (leave the option out to target every node)")]);
        var stream = new YamlStream();
        try
        {
            stream.Load(new LimitedParser(new Parser(new Scanner(new StringReader(text)))));
        }
        catch (Exception e) when (e is YamlException or InvalidOperationException
                                       or ArgumentOutOfRangeException { ParamName: "highSurrogate" or "lowSurrogate" })
        {
            var at = e is YamlException y ? (y.InnerException as YamlException ?? y).Start : Mark.Empty;
            throw new ManifestException([new ManifestError(source, (int)at.Line, (int)at.Column, "", $"invalid target: {e.Message}")]);
        }
        if (stream.Documents.Count != 1 || stream.Documents[0].RootNode is not YamlMappingNode map)
            throw new ManifestException([new ManifestError(source, 0, 0, "", "a target is a mapping, e.g. {roles: [web], labels: {env: prod}, nodes: [web*], facts: {os: debian}}")]);
        if (map.Children.Count == 0)
            throw new ManifestException([new ManifestError(source, 0, 0, "", "the target is empty (leave the option out to target every node)")]);
        var target = ReadTarget(map, "", context);
        if (context.Errors.Count > 0) throw new ManifestException(context.Errors);
        return target;
    }

    private static Manifest? TryParse(string text, ParseContext context)
    {
        // A byte-order mark may open a YAML stream; YamlDotNet would read it as part of the first key.
        if (text.StartsWith('\uFEFF')) text = text[1..];

        // YamlDotNet passes such a half character through, and the canonical form would then
        // silently write U+FFFD in its place: a value the user never wrote.
        if (LoneSurrogate(text) is { } half)
        {
            context.Error(half.At, "", $"invalid text: U+{(int)half.Char:X4} is half of a UTF-16 surrogate pair without its other half, not a character (is the encoding broken?)");
            return null;
        }

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
        catch (ArgumentOutOfRangeException e) when (e.ParamName is "highSurrogate" or "lowSurrogate")
        {
            // YamlDotNet's scanner throws this, not a YamlException, for two \u escapes that are
            // halves of a surrogate pair but not a pair ("\uD800\uD800"); one half alone it refuses itself.
            context.Error(scanner.CurrentPosition, "", "invalid YAML: two escapes in a quoted string are halves of UTF-16 surrogate pairs that do not pair up (\\uD800-\\uDBFF must be followed by \\uDC00-\\uDFFF)");
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
            context.Error(stream.Documents[0].RootNode, "", "a manifest is a mapping with 'manifest', 'target', 'vars', 'resources' and 'rollout'");
            return null;
        }

        var secrets = Secrets.SecretPlacement.Check(root, context, context.PlaintextSecrets);
        var f = new FieldReader(root, "", context);
        var name = f.String("manifest", required: true) ?? "";
        if (name.Length > 0 && !NamePattern().IsMatch(name))
            context.Error(f.Raw("manifest")!, "manifest", $"'{name}' is not a valid name (lowercase letters, digits, '.', '_', '-'; at most 63)");

        var target = ParseTarget(f, context);
        var vars = ParseVars(f, context);
        var resources = ParseResources(f, context);
        var rollout = RolloutPolicy.Parse(f, context);
        f.RejectUnknown();
        var graph = CheckGraph(resources, context);
        // A misplaced secret is reported once, as such, not also as whatever its envelope fails to be there.
        context.Errors.RemoveAll(e => secrets.Positions.Contains((e.Line, e.Column)) && !secrets.Reported.Contains(e));
        return new Manifest(name, target, vars, graph.Select(r => r.Spec).ToArray()) { HasSealedValues = secrets.Sealed, Rollout = rollout };
    }

    /// <summary>The first UTF-16 surrogate that is not part of a pair, and where it is (line and column from 1).</summary>
    private static (char Char, Mark At)? LoneSurrogate(string text)
    {
        long line = 1, column = 1;
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                i++;
                column++;
            }
            else if (char.IsSurrogate(c)) return (c, new Mark(i, line, column));
            else if (c == '\n' || c == '\r' && (i + 1 == text.Length || text[i + 1] != '\n'))
            {
                line++;
                column = 0;
            }
            column++;
        }
        return null;
    }

    private static TargetSpec ParseTarget(FieldReader f, ParseContext context)
    {
        var node = f.Raw("target");
        if (node is null || node is YamlScalarNode s && FieldReader.IsNull(s)) return TargetSpec.All;
        if (node is not YamlMappingNode map)
        {
            context.Error(node, "target", "must be a mapping with roles, labels, nodes and/or facts");
            return TargetSpec.All;
        }
        return ReadTarget(map, "target", context);
    }

    /// <summary>The fields of a target mapping, at <paramref name="path"/> (the manifest's "target", or "" on a command line).</summary>
    private static TargetSpec ReadTarget(YamlMappingNode map, string path, ParseContext context)
    {
        var t = new FieldReader(map, path, context);
        var target = new TargetSpec(t.StringList("roles"), t.StringMap("labels"), t.StringList("nodes")) { Facts = ReadFacts(t) };
        t.RejectUnknown();
        return target;
    }

    /// <summary><c>facts: { os: debian, "memory_mb>=": 4096 }</c>: every key a fact with its operator (<see cref="FactCondition"/>), every value a scalar.</summary>
    private static FactCondition[] ReadFacts(FieldReader t)
    {
        var field = t.Field("facts");
        var node = t.Raw("facts");
        if (node is null) return [];
        if (node is not YamlMappingNode map)
        {
            t.Context.Error(node, field, "must be a mapping of fact to value, e.g. {os: debian, \"memory_mb>=\": 4096}");
            return [];
        }
        if (map.Children.Count == 0)
        {
            t.Context.Error(node, field, "is empty: name at least one fact, or leave 'facts' out");
            return [];
        }
        var conditions = new List<FactCondition>();
        foreach (var (k, v) in map.Children)
        {
            var key = (k as YamlScalarNode)?.Value ?? "";
            if (v is not YamlScalarNode value || FieldReader.IsNull(value))
            {
                t.Context.Error(v, $"{field}.{key}", "must be a single value (a string or a number)");
                continue;
            }
            var condition = FactCondition.Parse(key, value.Value ?? "", out var error);
            if (error is not null) t.Context.Error(k, $"{field}.{key}", error);
            else if (conditions.Any(c => c.Key == condition.Key))
                t.Context.Error(k, $"{field}.{key}", $"'{condition.Path}' with this operator is given twice");
            else conditions.Add(condition);
        }
        return conditions.ToArray();
    }

    private static JsonObject ParseVars(FieldReader f, ParseContext context)
    {
        var node = f.Raw("vars");
        if (node is null || node is YamlScalarNode s && FieldReader.IsNull(s)) return new JsonObject();
        if (node is not YamlMappingNode) context.Error(node, "vars", "must be a mapping");
        return ToJson(node) as JsonObject ?? new JsonObject();
    }

    private sealed record ParsedResource(ResourceSpec Spec, YamlMappingNode Node, string Field, Links Links);

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
            var links = new Links(r.StringList("requires"), r.StringList("before"), r.StringList("notify"), r.StringList("subscribe"));
            var requires = links.Requires;
            if (kind is null) continue;
            if (!ResourceKinds.Parsers.TryGetValue(kind, out var parse))
            {
                context.Error(r.Raw("type")!, r.Field("type"), $"unknown resource type '{kind}' (known: {string.Join(", ", ResourceKinds.Parsers.Keys.Order(StringComparer.Ordinal))})");
                continue;
            }
            var spec = parse(r, id, requires);
            r.RejectUnknown();
            result.Add(new ParsedResource(spec, map, field, links));
        }
        return result;
    }

    /// <summary>Every <c>requires</c> names a resource of the manifest, two resources never manage one path, and there is no cycle.</summary>
    /// <summary>
    /// Checks the relations between resources and folds them into one graph: every name in
    /// <c>requires</c>, <c>before</c>, <c>notify</c> and <c>subscribe</c> is a resource of the
    /// manifest; <c>A before B</c> and <c>A notify B</c> mean B requires A; <c>A subscribe B</c>
    /// means A requires B and B notifies A. No cycle, and no path managed twice.
    /// </summary>
    private static List<ParsedResource> CheckGraph(List<ParsedResource> resources, ParseContext context)
    {
        // First one wins: a duplicate id is already reported, and must not crash the checks below.
        var byId = new Dictionary<string, ParsedResource>(StringComparer.Ordinal);
        foreach (var r in resources) byId.TryAdd(r.Spec.Id, r);
        foreach (var r in resources)
            foreach (var (relation, names) in r.Links.All)
                foreach (var name in names.Where(n => !byId.ContainsKey(n)))
                    context.Error(LinkEntry(r, relation, name), $"{r.Field}.{relation}", $"'{name}' is not a resource of this manifest");

        var byPath = new Dictionary<string, ParsedResource>(StringComparer.Ordinal);
        foreach (var r in resources)
        {
            if (r.Spec.ManagedPath is not { Length: > 0 } path) continue;
            if (byPath.TryGetValue(path, out var other))
                context.Error(FieldReader.Child(r.Node, "path") ?? r.Node, $"{r.Field}.path", $"'{path}' is already managed by '{other.Spec.Id}'");
            else byPath[path] = r;
        }

        var folded = resources.Select(r => r with
        {
            Spec = r.Spec with
            {
                Requires = r.Links.Requires.Concat(r.Links.Subscribe)
                    .Concat(resources.Where(o => o.Links.Before.Contains(r.Spec.Id) || o.Links.Notify.Contains(r.Spec.Id)).Select(o => o.Spec.Id))
                    .Where(byId.ContainsKey).Distinct().ToArray(),
                Notify = r.Links.Notify
                    .Concat(resources.Where(o => o.Links.Subscribe.Contains(r.Spec.Id)).Select(o => o.Spec.Id))
                    .Where(byId.ContainsKey).Distinct().ToArray(),
            },
        }).ToList();

        var cycle = ResourceGraph.FindCycle(folded.Select(r => r.Spec).ToArray());
        if (cycle is not null)
        {
            var (field, entry) = FindLink(byId[cycle[0]], byId[cycle[1]]);
            context.Error(entry, field, $"dependency cycle: {string.Join(" -> ", cycle)}");
        }
        return folded;
    }

    /// <summary>The entry of <paramref name="relation"/> naming <paramref name="name"/>, so an error points at that line.</summary>
    private static YamlNode LinkEntry(ParsedResource r, string relation, string name) => FieldReader.Child(r.Node, relation) switch
    {
        YamlSequenceNode list => list.Children.FirstOrDefault(c => c is YamlScalarNode s && s.Value == name) ?? list,
        { } single => single,
        null => r.Node,
    };

    /// <summary>
    /// Where <paramref name="r"/> comes to depend on <paramref name="dependency"/> (its own
    /// requires/subscribe, or the other's before/notify): the field and the entry that say so.
    /// </summary>
    private static (string Field, YamlNode Entry) FindLink(ParsedResource r, ParsedResource dependency)
    {
        foreach (var relation in new[] { "requires", "subscribe" })
            if (r.Links.Of(relation).Contains(dependency.Spec.Id)) return ($"{r.Field}.{relation}", LinkEntry(r, relation, dependency.Spec.Id));
        foreach (var relation in new[] { "before", "notify" })
            if (dependency.Links.Of(relation).Contains(r.Spec.Id)) return ($"{dependency.Field}.{relation}", LinkEntry(dependency, relation, r.Spec.Id));
        return ($"{r.Field}.requires", r.Node);
    }

    /// <summary>A resource's relations as written.</summary>
    private sealed record Links(string[] Requires, string[] Before, string[] Notify, string[] Subscribe)
    {
        public IEnumerable<(string Relation, string[] Names)> All =>
            [("requires", Requires), ("before", Before), ("notify", Notify), ("subscribe", Subscribe)];

        public string[] Of(string relation) => All.First(a => a.Relation == relation).Names;
    }

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
