using System.Text.Json;
using Mesh.Protocol.Api;
using Mesh.Protocol.Manifests;
using Mesh.Protocol.Versioning;
using Mesh.Protocol.Wire;

namespace Mesh.Protocol.Tests;

/// <summary>
/// A client compiled ahead of time has no reflection: every API body must have compile-time
/// metadata (<see cref="ApiJsonContext"/>), and with it the same JSON as the node writes.
/// </summary>
public class ApiJsonContextTests
{
    public static TheoryData<Type> ApiBodies() =>
        new(typeof(ApiError).Assembly.GetTypes()
            .Where(t => t.Namespace == typeof(ApiError).Namespace && t.IsPublic && !(t.IsAbstract && t.IsSealed) && !t.IsGenericTypeDefinition
                        && !typeof(System.Text.Json.Serialization.JsonConverter).IsAssignableFrom(t) && t != typeof(ApiJsonContext)));

    [Theory]
    [MemberData(nameof(ApiBodies))]
    public void Every_api_body_has_compile_time_metadata(Type body)
    {
        var info = ApiJson.Compiled.GetTypeInfo(body);

        Assert.Equal(body, info.Type);
    }

    [Fact]
    public void Compile_time_metadata_writes_what_reflection_writes()
    {
        var version = new HybridTimestamp(1_764_220_065_123, 2, "web-1");
        var revision = new RevisionRecord("web", version, new string('a', 64), 512, "alice", "web-1", "akka.tcp://mesh@10.0.0.1:4053",
            DateTimeOffset.UnixEpoch, "more workers", new TargetSpec(["web"], new Dictionary<string, string> { ["env"] = "prod" }, []), null);
        var report = new ApplyReport("web-2", "web", version, revision.Hash, ApplyOutcome.Failed, 1,
            [new ResourceResult("motd", "file", ResourceAction.Changed, "content", 3)], "boom", 4, DateTimeOffset.UnixEpoch);
        var @event = new MeshEvent("report", report, revision);

        var compiled = JsonSerializer.Serialize(@event, ApiJson.Info<MeshEvent>(ApiJson.Compiled));
        var reflected = JsonSerializer.Serialize(@event, new JsonSerializerOptions(ApiJson.Options) { TypeInfoResolver = new System.Text.Json.Serialization.Metadata.DefaultJsonTypeInfoResolver() });

        Assert.Equal(reflected, compiled);
        Assert.Contains("\"outcome\":\"failed\"", compiled);
        Assert.Contains("\"action\":\"changed\"", compiled);
        Assert.Contains($"\"version\":\"{version}\"", compiled);
    }

    [Fact]
    public void A_type_without_metadata_is_refused_rather_than_guessed()
    {
        Assert.Throws<NotSupportedException>(() => ApiJson.Compiled.GetTypeInfo(typeof(Uri)));
    }
    /// <summary>
    /// An enum without <see cref="SnakeCaseEnum{T}"/> would be a number to a client without
    /// reflection and a word from the node: every enum an API body reaches carries it.
    /// </summary>
    [Fact]
    public void Every_enum_an_api_body_reaches_is_written_as_a_word_without_reflection()
    {
        var roots = typeof(ApiJsonContext).GetCustomAttributesData()
            .Where(a => a.AttributeType == typeof(System.Text.Json.Serialization.JsonSerializableAttribute))
            .Select(a => (Type)a.ConstructorArguments[0].Value!)
            .ToList();
        var enums = Reachable(roots).Where(t => t.IsEnum).ToList();

        Assert.Contains(typeof(ApplyOutcome), enums);
        Assert.All(enums, e => Assert.True(
            e.GetCustomAttributes(typeof(System.Text.Json.Serialization.JsonConverterAttribute), false).Length == 1,
            $"{e.FullName} crosses the API without [JsonConverter(typeof(SnakeCaseEnum<{e.Name}>))]"));
    }

    private static HashSet<Type> Reachable(IEnumerable<Type> roots)
    {
        var seen = new HashSet<Type>();
        var queue = new Queue<Type>(roots);
        while (queue.TryDequeue(out var t))
        {
            if (Nullable.GetUnderlyingType(t) is { } inner) t = inner;
            if (t.IsArray) t = t.GetElementType()!;
            if (!seen.Add(t) || t.Namespace?.StartsWith("Mesh.Protocol", StringComparison.Ordinal) != true && !t.IsGenericType) continue;
            foreach (var g in t.IsGenericType ? t.GetGenericArguments() : []) queue.Enqueue(g);
            if (t.Namespace?.StartsWith("Mesh.Protocol", StringComparison.Ordinal) != true) continue;
            foreach (var p in t.GetProperties(System.Reflection.BindingFlags.Instance | System.Reflection.BindingFlags.Public)) queue.Enqueue(p.PropertyType);
        }
        return seen;
    }
}
