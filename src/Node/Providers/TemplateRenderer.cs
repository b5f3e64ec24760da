using System.Text.Json.Nodes;
using Fluid;
using Fluid.Values;
using Mesh.Protocol.Manifests;

namespace Mesh.Node.Providers;

/// <summary>
/// Renders a file's Liquid template on the node with two objects: <c>vars</c> (the manifest's
/// variables) and <c>node</c> (this node's facts). A name that resolves to nothing is an
/// error, not an empty string: a typo must not write a broken config to a fleet.
/// </summary>
public static class TemplateRenderer
{
    public static string Render(string source, ApplyContext context, string resourceId)
    {
        if (!Templates.Parser.TryParse(source, out var template, out var error))
            throw new ResourceException($"{context.Manifest}/{resourceId}: template does not parse: {error}");

        var options = new TemplateOptions { MaxRecursion = 32, MaxSteps = 1_000_000 };
        string? undefined = null;
        options.Undefined = name =>
        {
            undefined ??= name;
            return ValueTask.FromResult<FluidValue>(NilValue.Instance);
        };
        var model = new TemplateContext(options);
        model.SetValue("vars", ToFluid(context.Vars));
        model.SetValue("node", ToFluid(context.Facts.ToJson()));
        string text;
        try
        {
            text = template.Render(model);
        }
        catch (Exception e) when (e is InvalidOperationException or FormatException or ArgumentException)
        {
            throw new ResourceException($"{context.Manifest}/{resourceId}: template failed: {e.Message}");
        }
        if (undefined is not null)
            throw new ResourceException($"{context.Manifest}/{resourceId}: template uses '{undefined}', which is not defined (vars.* or node.*)");
        return text;
    }

    /// <summary>JSON values as plain dictionaries and lists, which Fluid reads without any .NET member access.</summary>
    private static object? ToFluid(JsonNode? node) => node switch
    {
        JsonObject o => o.ToDictionary(kv => kv.Key, kv => ToFluid(kv.Value)),
        JsonArray a => a.Select(ToFluid).ToList(),
        JsonValue v when v.TryGetValue<long>(out var l) => l,
        JsonValue v when v.TryGetValue<double>(out var d) => d,
        JsonValue v when v.TryGetValue<bool>(out var b) => b,
        JsonValue v => v.ToString(),
        _ => null,
    };
}
