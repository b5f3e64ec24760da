using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using Mesh.Protocol.Versioning;

namespace Mesh.Protocol.Api;

/// <summary>The JSON settings both sides of the control API use.</summary>
public static class ApiJson
{
    /// <summary>
    /// The API's settings. Types of <see cref="ApiJsonContext"/> are read and written from
    /// compile-time metadata; where reflection is available (the node), any other type too.
    /// </summary>
    public static readonly JsonSerializerOptions Options = Create(reflection: JsonSerializer.IsReflectionEnabledByDefault);

    /// <summary>The same settings with compile-time metadata only: what a client compiled ahead of time has.</summary>
    public static readonly JsonSerializerOptions Compiled = Create(reflection: false);

    /// <summary>The metadata of <typeparamref name="T"/> under <paramref name="options"/> (default <see cref="Options"/>).</summary>
    public static JsonTypeInfo<T> Info<T>(JsonSerializerOptions? options = null) =>
        (JsonTypeInfo<T>)(options ?? Options).GetTypeInfo(typeof(T));

    /// <summary>Largest request body a node's control API accepts (a push with its sources, as JSON).</summary>
    public const long MaxBodyBytes = 64L * 1024 * 1024;

    private static JsonSerializerOptions Create(bool reflection)
    {
        var o = new JsonSerializerOptions(JsonSerializerDefaults.Web)
        {
            DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
            Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
            TypeInfoResolver = ApiJsonContext.Default,
        };
        o.Converters.Add(new HybridTimestampConverter());
        if (reflection && JsonSerializer.IsReflectionEnabledByDefault) AddReflection(o);
        o.MakeReadOnly();
        return o;
    }

    /// <summary>Any type by reflection, enums as snake_case strings: for the node, which also answers with ad-hoc shapes.</summary>
    [System.Diagnostics.CodeAnalysis.UnconditionalSuppressMessage("Trimming", "IL2026", Justification = "only where reflection is enabled (JsonSerializer.IsReflectionEnabledByDefault)")]
    [System.Diagnostics.CodeAnalysis.UnconditionalSuppressMessage("AOT", "IL3050", Justification = "only where reflection is enabled (JsonSerializer.IsReflectionEnabledByDefault)")]
    private static void AddReflection(JsonSerializerOptions o)
    {
        o.TypeInfoResolver = JsonTypeInfoResolver.Combine(ApiJsonContext.Default, new DefaultJsonTypeInfoResolver());
        o.Converters.Add(new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower));
    }

    private sealed class HybridTimestampConverter : JsonConverter<HybridTimestamp>
    {
        public override HybridTimestamp Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
            HybridTimestamp.TryParse(reader.GetString() ?? "", out var t) ? t! : throw new JsonException("bad version");

        public override void Write(Utf8JsonWriter writer, HybridTimestamp value, JsonSerializerOptions options) =>
            writer.WriteStringValue(value.ToString());
    }
}
