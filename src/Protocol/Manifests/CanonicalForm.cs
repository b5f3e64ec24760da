using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Mesh.Protocol.Manifests;

/// <summary>
/// The one byte form of a manifest that is stored, hashed, signed and shipped: JSON with
/// sorted keys, no insignificant whitespace, UTF-8 unescaped. Two YAML files that mean the
/// same thing have the same canonical bytes and so the same hash. Being JSON, it is also
/// YAML, so <see cref="ManifestParser"/> reads it back.
/// </summary>
public static class CanonicalForm
{
    private static readonly JsonWriterOptions WriterOptions = new()
    {
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        Indented = false,
    };

    public static byte[] ToBytes(Manifest manifest)
    {
        var root = new JsonObject
        {
            ["manifest"] = manifest.Name,
            ["vars"] = manifest.Vars.DeepClone(),
            ["resources"] = new JsonArray(manifest.Resources.Select(ResourceToJson).ToArray()),
        };
        var target = new JsonObject();
        if (manifest.Target.Roles.Length > 0) target["roles"] = Strings(manifest.Target.Roles);
        if (manifest.Target.Nodes.Length > 0) target["nodes"] = Strings(manifest.Target.Nodes);
        if (manifest.Target.Labels.Count > 0)
            target["labels"] = new JsonObject(manifest.Target.Labels.Select(l => KeyValuePair.Create(l.Key, (JsonNode?)l.Value)));
        if (manifest.Target.Facts.Length > 0)
            target["facts"] = new JsonObject(manifest.Target.Facts.Select(f => KeyValuePair.Create(f.Key, (JsonNode?)f.Value)));
        if (target.Count > 0) root["target"] = target;
        if (manifest.Rollout is { } rollout) root["rollout"] = rollout.ToJson();

        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer, WriterOptions)) WriteSorted(writer, root);
        return buffer.ToArray();
    }

    public static Manifest FromBytes(byte[] canonical, string source) =>
        ManifestParser.Parse(Encoding.UTF8.GetString(canonical), source);

    /// <summary>Lower-case hex SHA-256: the content address of a blob.</summary>
    public static string Hash(ReadOnlySpan<byte> bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes));

    private static JsonNode ResourceToJson(ResourceSpec r)
    {
        var o = new JsonObject { ["id"] = r.Id, ["type"] = r.Kind };
        if (r.Requires.Length > 0) o["requires"] = Strings(r.Requires);
        if (r.Notify.Length > 0) o["notify"] = Strings(r.Notify);
        r.WriteFields(o);
        return o;
    }

    private static JsonArray Strings(IEnumerable<string> items) => new(items.Select(i => (JsonNode?)JsonValue.Create(i)).ToArray());

    private static void WriteSorted(Utf8JsonWriter w, JsonNode? node)
    {
        switch (node)
        {
            case null:
                w.WriteNullValue();
                break;
            case JsonObject o:
                w.WriteStartObject();
                foreach (var (k, v) in o.OrderBy(p => p.Key, StringComparer.Ordinal))
                {
                    w.WritePropertyName(k);
                    WriteSorted(w, v);
                }
                w.WriteEndObject();
                break;
            case JsonArray a:
                w.WriteStartArray();
                foreach (var item in a) WriteSorted(w, item);
                w.WriteEndArray();
                break;
            default:
                node.WriteTo(w);
                break;
        }
    }
}
