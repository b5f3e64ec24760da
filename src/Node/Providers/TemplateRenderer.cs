using System.Text.Json.Nodes;
using Fluid;
using Fluid.Values;
using Mesh.Node.Facts;
using Mesh.Protocol.Manifests;
using Microsoft.Extensions.FileProviders;

namespace Mesh.Node.Providers;

/// <summary>
/// Renders a file's Liquid template on the node with three objects: <c>vars</c> (the manifest's
/// variables), <c>node</c> (this node's facts) and <c>nodes</c> (every member of the fleet with its
/// facts, sorted by name; see <see cref="FleetView.Nodes"/>), and three filters to pick from
/// <c>nodes</c>: <c>where_role: "web"</c>, <c>where_label: "env", "prod"</c> and
/// <c>where_fact: "memory_mb>=", 4096</c> (a fact condition, as in a target's <c>facts:</c>). A name that resolves to nothing is an
/// error naming it, not an empty string: a typo must not write a broken config to a fleet.
/// Templates see plain values only: no .NET members, no files (include/render find nothing).
/// </summary>
public static class TemplateRenderer
{
    public static string Render(string source, ApplyContext context, string resourceId)
    {
        var where = $"{context.Manifest}/{resourceId}";
        if (!Templates.TryParse(source, out var template, out var error))
            throw new ResourceException($"{where}: template does not parse: {error}");

        if (context.Fleet is { Joined: false } && FleetReaders.ReadsNodes(source))
            throw new ResourceException($"{where}: the template reads nodes, and this node has not joined the mesh yet: the file is left as it is until it has");
        var missing = new List<string>();
        var options = new TemplateOptions { MaxRecursion = 32, MaxSteps = 1_000_000, FileProvider = new NullFileProvider() };
        options.Undefined = name =>
        {
            missing.Add(name);
            return ValueTask.FromResult<FluidValue>(NilValue.Instance);
        };
        options.Filters.AddFilter("where_role", (input, args, _) => Where(input, n => Strings(n["roles"]).Contains(args.At(0).ToStringValue())));
        options.Filters.AddFilter("where_label", (input, args, _) =>
        {
            var (key, value) = args.Count > 1 ? (args.At(0).ToStringValue(), args.At(1).ToStringValue()) : Split(args.At(0).ToStringValue());
            return Where(input, n => n["labels"] is JsonObject labels && labels[key]?.ToString() == value);
        });
        options.Filters.AddFilter("where_fact", (input, args, _) =>
        {
            var condition = FactCondition.Parse(args.At(0).ToStringValue(), args.At(1).ToStringValue(), out var error);
            if (error is not null) throw new ResourceException($"{where}: where_fact: {error}");
            return Where(input, condition.Matches);
        });
        var model = new TemplateContext(options);
        var self = context.Fleet?.Self ?? context.Facts;
        var nodes = context.Fleet?.Nodes() ?? new JsonArray(self.ToJson());
        model.SetValue("vars", ToFluid(context.Vars, "vars", missing, options));
        model.SetValue("node", ToFluid(self.ToJson(), "node", missing, options));
        model.SetValue("nodes", ToFluid(nodes, "nodes", missing, options));
        string text;
        try
        {
            text = template.Render(model);
        }
        catch (Exception e) when (e is not (OutOfMemoryException or ResourceException))
        {
            throw new ResourceException($"{where}: template failed: {e.Message}");
        }
        if (missing.Count > 0)
            throw new ResourceException($"{where}: template uses {string.Join(", ", missing.Distinct().Select(m => $"'{m}'{LineOf(source, m)}"))}, not defined (declare it in vars)");
        return text;
    }

    /// <summary>The items of a list of objects (<c>nodes</c>, or what a filter left of it) that <paramref name="keep"/> keeps.</summary>
    private static ValueTask<FluidValue> Where(FluidValue input, Func<JsonObject, bool> keep) =>
        ValueTask.FromResult<FluidValue>(new ArrayValue(input.Enumerate(new TemplateContext())
            .Where(item => item.ToObjectValue() is StrictObject o && keep(o.Json)).ToArray()));

    private static IEnumerable<string> Strings(JsonNode? list) => list is JsonArray a ? a.Select(i => i?.ToString() ?? "") : [];

    private static (string, string) Split(string pair) => pair.IndexOf('=') is var eq and > 0 ? (pair[..eq], pair[(eq + 1)..]) : (pair, "");

    /// <summary>" (template line N)" for the first line that names the value, when one does.</summary>
    private static string LineOf(string source, string name)
    {
        var lines = source.Split('\n');
        var index = Array.FindIndex(lines, l => l.Contains(name, StringComparison.Ordinal));
        return index < 0 ? "" : $" (template line {index + 1})";
    }

    /// <summary>JSON as Fluid values; objects report the names asked of them that they do not have.</summary>
    private static FluidValue ToFluid(JsonNode? node, string path, List<string> missing, TemplateOptions options) => node switch
    {
        JsonObject o => new DictionaryValue(new StrictObject(o, path, missing, options)),
        JsonArray a => new ArrayValue(a.Select((item, i) => ToFluid(item, $"{path}[{i}]", missing, options)).ToArray()),
        JsonValue v when v.TryGetValue<long>(out var l) => NumberValue.Create(l),
        JsonValue v when v.TryGetValue<double>(out var d) => NumberValue.Create((decimal)d),
        JsonValue v when v.TryGetValue<bool>(out var b) => BooleanValue.Create(b),
        JsonValue v => StringValue.Create(v.ToString()),
        _ => NilValue.Instance,
    };

    private sealed class StrictObject(JsonObject values, string path, List<string> missing, TemplateOptions options) : IFluidIndexable
    {
        public JsonObject Json => values;

        public int Count => values.Count;
        public IEnumerable<string> Keys => values.Select(kv => kv.Key);

        public bool TryGetValue(string name, out FluidValue value)
        {
            if (values.TryGetPropertyValue(name, out var child))
            {
                value = ToFluid(child, $"{path}.{name}", missing, options);
                return true;
            }
            // Liquid's own properties of a collection are not missing values.
            if (name is not ("size" or "first" or "last")) missing.Add($"{path}.{name}");
            value = NilValue.Instance;
            return false;
        }
    }
}
