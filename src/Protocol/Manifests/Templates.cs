using System.Text.RegularExpressions;
using Fluid;

namespace Mesh.Protocol.Manifests;

/// <summary>
/// Liquid templates (Fluid). Checked for syntax when a manifest is pushed, so a broken
/// template is refused with its line instead of failing on every node. The parser is
/// sandboxed: no include/render of files, no access to .NET objects beyond the model given.
/// One extension over Liquid: a <c>for</c> loop may filter its collection,
/// <c>{% for n in nodes | where_role: "web" %}</c>, read as an <c>assign</c> of the filtered list
/// followed by a loop over it (on the same line, so errors keep their line numbers).
/// </summary>
public static partial class Templates
{
    public static readonly FluidParser Parser = new(new FluidParserOptions { AllowFunctions = false });

    [GeneratedRegex(@"\{%(?<open>-?)\s*for\s+(?<item>[A-Za-z_][A-Za-z0-9_]*)\s+in\s+(?<list>[^%|]+\|[^%]*?)\s*(?<close>-?)%\}")]
    private static partial Regex FilteredFor();

    /// <summary>Parses a template as Mesh reads it (see the class summary).</summary>
    public static bool TryParse(string source, out IFluidTemplate template, out string error)
    {
        var index = 0;
        var rewritten = FilteredFor().Replace(source, m =>
        {
            var name = $"mesh_for_{index++}";
            return $"{{%{m.Groups["open"].Value} assign {name} = {m.Groups["list"].Value.Trim()} %}}{{% for {m.Groups["item"].Value} in {name} {m.Groups["close"].Value}%}}";
        });
        return Parser.TryParse(rewritten, out template, out error);
    }

    internal static void Check(string template, FieldReader f, string key)
    {
        if (TryParse(template, out _, out var error)) return;
        var node = f.Raw(key)!;
        f.Context.Error(node, f.Field(key), $"template does not parse: {error}");
    }
}
