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
            .Where(t => t.Namespace == typeof(ApiError).Namespace && t.IsPublic && !(t.IsAbstract && t.IsSealed) && t != typeof(ApiJsonContext)));

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
}
