using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Mesh.Cli;

/// <summary>The canonical (compact JSON) form of a manifest, indented for reading.</summary>
public static class CanonicalText
{
    public static string Pretty(string canonical)
    {
        try
        {
            return JsonNode.Parse(canonical)!.ToJsonString(new JsonSerializerOptions
            {
                WriteIndented = true,
                Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
            });
        }
        catch (JsonException)
        {
            return canonical;
        }
    }
}
