using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;
using Mesh.Protocol.Versioning;

namespace Mesh.Protocol.Api;

/// <summary>The JSON settings both sides of the control API use.</summary>
public static class ApiJson
{
    public static readonly JsonSerializerOptions Options = Create();

    /// <summary>Largest request body a node's control API accepts (a push with its sources, as JSON).</summary>
    public const long MaxBodyBytes = 64L * 1024 * 1024;

    private static JsonSerializerOptions Create()
    {
        var o = new JsonSerializerOptions(JsonSerializerDefaults.Web)
        {
            DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
            Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        };
        o.Converters.Add(new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower));
        o.Converters.Add(new HybridTimestampConverter());
        return o;
    }

    private sealed class HybridTimestampConverter : JsonConverter<HybridTimestamp>
    {
        public override HybridTimestamp Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
            HybridTimestamp.TryParse(reader.GetString() ?? "", out var t) ? t! : throw new JsonException("bad version");

        public override void Write(Utf8JsonWriter writer, HybridTimestamp value, JsonSerializerOptions options) =>
            writer.WriteStringValue(value.ToString());
    }
}
