using Fluid;

namespace Mesh.Protocol.Manifests;

/// <summary>
/// Liquid templates (Fluid). Checked for syntax when a manifest is pushed, so a broken
/// template is refused with its line instead of failing on every node. The parser is
/// sandboxed: no include/render of files, no access to .NET objects beyond the model given.
/// </summary>
public static class Templates
{
    public static readonly FluidParser Parser = new(new FluidParserOptions { AllowFunctions = false });

    internal static void Check(string template, FieldReader f, string key)
    {
        if (Parser.TryParse(template, out _, out var error)) return;
        var node = f.Raw(key)!;
        f.Context.Error(node, f.Field(key), $"template does not parse: {error}");
    }
}
