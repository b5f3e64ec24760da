using System.Text.Json.Nodes;
using Fluid;
using Fluid.Values;
using Mesh.Protocol.Manifests;
using Microsoft.Extensions.FileProviders;

namespace Mesh.Node.Providers;

/// <summary>
/// Renders a file's Liquid template on the node with two objects: <c>vars</c> (the manifest's
/// variables) and <c>node</c> (this node's facts). A name that resolves to nothing is an
/// error naming it, not an empty string: a typo must not write a broken config to a fleet.
/// Templates see plain values only: no .NET members, no files (include/render find nothing).
/// </summary>
public static class TemplateRenderer
{
    public static string Render(string source, ApplyContext context, string resourceId)
    {
        var where = $"{context.Manifest}/{resourceId}";
        if (!Templates.Parser.TryParse(source, out var template, out var error))
            throw new ResourceException($"{where}: template does not parse: {error}");

        var missing = new List<string>();
        var options = new TemplateOptions { MaxRecursion = 32, MaxSteps = 1_000_000, FileProvider = new NullFileProvider() };
        options.Undefined = name =>
        {
            missing.Add(name);
            return ValueTask.FromResult<FluidValue>(NilValue.Instance);
        };
        var model = new TemplateContext(options);
        model.SetValue("vars", ToFluid(context.Vars, "vars", missing, options));
        model.SetValue("node", ToFluid(context.Facts.ToJson(), "node", missing, options));
        string text;
        try
        {
            text = template.Render(model);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            throw new ResourceException($"{where}: template failed: {e.Message}");
        }
        if (missing.Count > 0)
            throw new ResourceException($"{where}: template uses {string.Join(", ", missing.Distinct().Select(m => $"'{m}'{LineOf(source, m)}"))}, not defined (declare it in vars)");
        return text;
    }

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
