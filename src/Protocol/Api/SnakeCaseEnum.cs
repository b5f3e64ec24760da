using System.Text.Json;
using System.Text.Json.Serialization;

namespace Mesh.Protocol.Api;

/// <summary>
/// An enum of the control API as a snake_case word (<c>greater_or_equal</c>), read and written
/// the same with or without reflection: put it on every enum an API body reaches,
/// <c>[JsonConverter(typeof(SnakeCaseEnum&lt;TheEnum&gt;))]</c> (<c>ApiJsonContextTests</c> checks).
/// </summary>
public sealed class SnakeCaseEnum<T>() : JsonStringEnumConverter<T>(JsonNamingPolicy.SnakeCaseLower) where T : struct, Enum;
