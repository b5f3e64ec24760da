using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Mesh.Protocol.Manifests;

/// <summary>The canonical (compact JSON) form of a manifest, indented for reading (mesh get, the diff between two revisions).</summary>
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
